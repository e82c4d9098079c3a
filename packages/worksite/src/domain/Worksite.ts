import { Context, Effect, Schema } from "effect"
import { BusinessScopedUserId, PhoneNumber, StoreUnavailable, UserId } from "@parley/core"

export const Locale = Schema.Literals(["fr", "en"])
export type Locale = typeof Locale.Type

/** The user's language as the worksite speaks it: English when the directory says so, French otherwise. */
export const localeOf = (user: { readonly locale?: string | undefined }): Locale => (user.locale === "en" ? "en" : "fr")

export const ProjectId = Schema.String.pipe(Schema.brand("ProjectId"))
export type ProjectId = typeof ProjectId.Type
export const TaskId = Schema.String.pipe(Schema.brand("TaskId"))
export type TaskId = typeof TaskId.Type

/** A user of the worksite assistant: the engine's `User`, with a locale the assistant speaks. */
export class Subcontractor extends Schema.Class<Subcontractor>("@parley/core/Subcontractor")({
  id: UserId,
  phone: PhoneNumber,
  /** Their WhatsApp business-scoped user id, once a message carried it with their number. */
  whatsappUserId: Schema.optionalKey(BusinessScopedUserId),
  displayName: Schema.String,
  locale: Locale
}) {}

export class Project extends Schema.Class<Project>("@parley/core/Project")({
  id: ProjectId,
  name: Schema.String,
  address: Schema.optionalKey(Schema.String)
}) {}

export const TaskStatus = Schema.Literals(["todo", "in_progress", "done", "blocked"])
export type TaskStatus = typeof TaskStatus.Type

export class Task extends Schema.Class<Task>("@parley/core/Task")({
  id: TaskId,
  projectId: ProjectId,
  title: Schema.String,
  status: TaskStatus,
  /** ISO date (YYYY-MM-DD), when the task has one. */
  dueDate: Schema.optionalKey(Schema.String)
}) {}

export class Incident extends Schema.Class<Incident>("@parley/core/Incident")({
  id: Schema.String,
  projectId: ProjectId,
  userId: UserId,
  /** Empty while a report made of a photo alone waits for its description. */
  description: Schema.String,
  /** Provider media references of the attached photos, in the order they were sent. */
  photoRefs: Schema.Array(Schema.String),
  createdAt: Schema.Int
}) {}

export interface NewIncident {
  readonly key: string
  readonly projectId: ProjectId
  readonly userId: UserId
  readonly description: string
  readonly photoRef?: string
  readonly at: number
}

export interface NewIncidentPhoto {
  readonly userId: UserId
  readonly incidentId: string
  readonly photoRef: string
  readonly at: number
}

/** The worksite data the assistant's tools read and write. */
export class Worksite extends Context.Service<Worksite, {
  /** Projects the user is assigned to, by name. */
  projectsOf(userId: UserId): Effect.Effect<ReadonlyArray<Project>, StoreUnavailable>
  /** Tasks of a project, only if the user is assigned to it (an empty list otherwise). */
  tasksOf(userId: UserId, projectId: ProjectId): Effect.Effect<ReadonlyArray<Task>, StoreUnavailable>
  task(userId: UserId, taskId: TaskId): Effect.Effect<Task | undefined, StoreUnavailable>
  setTaskStatus(userId: UserId, taskId: TaskId, status: TaskStatus): Effect.Effect<Task | undefined, StoreUnavailable>
  /**
   * Records an incident once per `key` (the inbound message it came from): a
   * message processed again after a crash does not report it twice, and gets
   * the incident recorded the first time.
   */
  reportIncident(incident: NewIncident): Effect.Effect<Incident, StoreUnavailable>
  /**
   * Adds a photo to one of the user's incidents (undefined: not theirs, or
   * gone). The same photo added again changes nothing: a retried message.
   */
  attachIncidentPhoto(photo: NewIncidentPhoto): Effect.Effect<Incident | undefined, StoreUnavailable>
  /**
   * Gives a report made of a photo alone its description. A description
   * already there is kept, so a retried message changes nothing.
   */
  describeIncident(userId: UserId, incidentId: string, description: string): Effect.Effect<Incident | undefined, StoreUnavailable>
  /** One of the user's incidents; another user's is undefined, as a task of a project they are not on. */
  incident(userId: UserId, incidentId: string): Effect.Effect<Incident | undefined, StoreUnavailable>
  /** The incidents the user reported, newest first. */
  incidentsOf(userId: UserId): Effect.Effect<ReadonlyArray<Incident>, StoreUnavailable>
}>()("@parley/core/Worksite") {}
