import { Context, Effect, Schema } from "effect"
import { UserId } from "./Ids.ts"
import { PhoneNumber } from "./PhoneNumber.ts"
import { StoreUnavailable } from "./StoreUnavailable.ts"

export const Locale = Schema.Literals(["fr", "en"])
export type Locale = typeof Locale.Type

export const ProjectId = Schema.String.pipe(Schema.brand("ProjectId"))
export type ProjectId = typeof ProjectId.Type
export const TaskId = Schema.String.pipe(Schema.brand("TaskId"))
export type TaskId = typeof TaskId.Type

export class Subcontractor extends Schema.Class<Subcontractor>("@parley/core/Subcontractor")({
  id: UserId,
  phone: PhoneNumber,
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
  description: Schema.String,
  /** Provider media reference of an attached photo. */
  photoRef: Schema.optionalKey(Schema.String),
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

/** Who is writing to us: unknown numbers get a polite refusal and no session. */
export class Directory extends Context.Service<Directory, {
  byPhone(phone: PhoneNumber): Effect.Effect<Subcontractor | undefined, StoreUnavailable>
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
   * message processed again after a crash does not report it twice.
   */
  reportIncident(incident: NewIncident): Effect.Effect<Incident, StoreUnavailable>
}>()("@parley/core/Worksite") {}
