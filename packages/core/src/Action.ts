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
  | { readonly _tag: "RecordIncident"; readonly projectId: ProjectId; readonly description: string; readonly photoRef?: string | undefined }
  | { readonly _tag: "Escalate" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Unsupported" }
  /** A tap on an option we cannot find in this session: say so and show the menu, never stay silent. */
  | { readonly _tag: "Expired" }

/** Tool output option kinds, and the action a tap on one of them runs. */
export type OptionKind = "project" | "projects_page" | "task" | "tasks_page" | "task_done" | "problem_project" | "problem_projects_page"

export const actionOfOption = (kind: string, id: string): Action | undefined => {
  switch (kind as OptionKind) {
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
    default:
      return undefined
  }
}
