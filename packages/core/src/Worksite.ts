import { Context, Effect, Schema } from "effect"
import { UserId } from "./Ids.ts"
import { PhoneNumber } from "./PhoneNumber.ts"
import { StoreUnavailable } from "./StoreUnavailable.ts"
import { BusinessScopedUserId } from "./UserAddress.ts"

export const Locale = Schema.Literals(["fr", "en"])
export type Locale = typeof Locale.Type

export const ProjectId = Schema.String.pipe(Schema.brand("ProjectId"))
export type ProjectId = typeof ProjectId.Type
export const TaskId = Schema.String.pipe(Schema.brand("TaskId"))
export type TaskId = typeof TaskId.Type

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

/** How a message names its sender: a phone number, a business-scoped user id, or both. */
export interface SenderIdentity {
  readonly phone?: PhoneNumber | undefined
  readonly userId?: BusinessScopedUserId | undefined
}

/** What WhatsApp says changed about a user (`user_changed_number`, `user_changed_user_id`). */
export interface IdentityChange {
  readonly phone?: PhoneNumber | undefined
  readonly userId?: BusinessScopedUserId | undefined
}

/**
 * Who is writing to us: unknown senders get a polite refusal and no session.
 * Users are registered by phone number; WhatsApp users with a username may
 * write with their business-scoped user id alone, so the directory also
 * knows users by it, learnt the first time a message carries both.
 */
export class Directory extends Context.Service<Directory, {
  byPhone(phone: PhoneNumber): Effect.Effect<Subcontractor | undefined, StoreUnavailable>
  /**
   * The user a message comes from: by phone number, else by business-scoped
   * user id. When the message carries both and the user is known by the
   * number, the id is recorded as theirs (and taken from anyone it was
   * recorded for before: an id names one user).
   */
  identify(sender: SenderIdentity): Effect.Effect<Subcontractor | undefined, StoreUnavailable>
  /**
   * Applies a change WhatsApp reported: a new phone number (kept only if no
   * other user has it: the directory never merges two people) and/or a new
   * business-scoped user id. Applying it again changes nothing.
   */
  updateIdentity(userId: UserId, change: IdentityChange): Effect.Effect<Subcontractor | undefined, StoreUnavailable>
}>()("@parley/core/Directory") {}

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
