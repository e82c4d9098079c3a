import { Schema } from "effect"
import { Intent } from "./Intent.ts"
import type { PhoneNumber } from "./PhoneNumber.ts"
import type { BusinessScopedUserId } from "./UserAddress.ts"
import type { ProjectId, TaskId } from "./Worksite.ts"

/** What the assistant will do for one inbound message, decided from the message and the session's history. */
export type Action =
  | { readonly _tag: "Menu" }
  | { readonly _tag: "ListProjects"; readonly page: number }
  | { readonly _tag: "ListTasks"; readonly projectId: ProjectId; readonly page: number }
  | { readonly _tag: "TaskDetail"; readonly taskId: TaskId }
  | { readonly _tag: "MarkDone"; readonly taskId: TaskId }
  | { readonly _tag: "AskProblemProject"; readonly page: number }
  | { readonly _tag: "AskProblemDescription"; readonly projectId: ProjectId }
  /** The report's first message: a description, a photo, or a photo with its caption. */
  | { readonly _tag: "RecordIncident"; readonly projectId: ProjectId; readonly description: string; readonly photoRef?: string | undefined }
  /** "Add a photo" tapped, or something else sent while a photo was expected (`reminder`). */
  | { readonly _tag: "AskIncidentPhoto"; readonly incidentId: string; readonly reminder: boolean }
  | { readonly _tag: "AttachIncidentPhoto"; readonly incidentId: string; readonly photoRef: string; readonly caption?: string | undefined }
  /** The description of a report that started with a photo alone. */
  | { readonly _tag: "DescribeIncident"; readonly incidentId: string; readonly description: string }
  | { readonly _tag: "FinishIncident"; readonly incidentId: string }
  | { readonly _tag: "Escalate" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Unsupported" }
  /** A tap on an option we cannot find in this session: say so and show the menu, never stay silent. */
  | { readonly _tag: "Expired" }
  /**
   * Nothing to answer: a reaction, a deletion, an edit that can no longer
   * change anything, a message in a group, a notice. It is kept in the session.
   */
  | { readonly _tag: "Record"; readonly what: "reaction" | "deletion" | "edit" | "group" | "notice" }
  /** WhatsApp reported a new number or user id for the user: the directory follows, nobody is answered. */
  | { readonly _tag: "UpdateIdentity"; readonly phone?: PhoneNumber | undefined; readonly userId?: BusinessScopedUserId | undefined }

/**
 * The action of an intent on its own. `more` and `back` mean something only
 * against the list last shown, which `decide` looks up first; without one they
 * get the help text.
 */
export const actionOfIntent = (intent: Intent): Action => {
  switch (intent) {
    case "greeting":
      return { _tag: "Menu" }
    case "view_sites":
      return { _tag: "ListProjects", page: 1 }
    case "report_problem":
      return { _tag: "AskProblemProject", page: 1 }
    case "talk_to_someone":
      return { _tag: "Escalate" }
    case "more":
    case "back":
    case "unknown":
      return { _tag: "Help" }
  }
}

/** Tool output option kinds, and the action a tap on one of them runs. */
export type OptionKind =
  | "menu"
  | "project"
  | "projects_page"
  | "task"
  | "tasks_page"
  | "task_done"
  | "problem_project"
  | "problem_projects_page"
  | "incident_photo"
  | "incident_done"

/** The kinds that lead to another page of the same list: what "more" follows. */
export const pageKinds: ReadonlySet<string> = new Set<OptionKind>(["projects_page", "tasks_page", "problem_projects_page"])

export const actionOfOption = (kind: string, id: string): Action | undefined => {
  switch (kind as OptionKind) {
    case "menu":
      return Schema.is(Intent)(id) ? actionOfIntent(id) : undefined
    case "project":
      return { _tag: "ListTasks", projectId: id as ProjectId, page: 1 }
    case "projects_page":
      return { _tag: "ListProjects", page: Number(id) }
    case "task":
      return { _tag: "TaskDetail", taskId: id as TaskId }
    case "tasks_page": {
      const [projectId = "", page = "1"] = id.split("#")
      return { _tag: "ListTasks", projectId: projectId as ProjectId, page: Number(page) }
    }
    case "task_done":
      return { _tag: "MarkDone", taskId: id as TaskId }
    case "problem_project":
      return { _tag: "AskProblemDescription", projectId: id as ProjectId }
    case "problem_projects_page":
      return { _tag: "AskProblemProject", page: Number(id) }
    case "incident_photo":
      return { _tag: "AskIncidentPhoto", incidentId: id, reminder: false }
    case "incident_done":
      return { _tag: "FinishIncident", incidentId: id }
    default:
      return undefined
  }
}
