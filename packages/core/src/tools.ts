import { Effect } from "effect"
import type { Action } from "./Action.ts"
import { copy, type Copy } from "./Copy.ts"
import { Handoff } from "./Handoff.ts"
import { menuButtonIds } from "./Intent.ts"
import { maskPhone } from "./PhoneNumber.ts"
import type { ListRow, Reply } from "./Reply.ts"
import { RequestContext } from "./RequestContext.ts"
import type { ToolOutput } from "./StoredMessage.ts"
import type { StoreUnavailable } from "./StoreUnavailable.ts"
import type { ToolReply, ToolResult } from "./ToolResult.ts"
import { Worksite, type Project, type Task } from "./Worksite.ts"

/** WhatsApp shows at most 10 rows in a list: 9 items and a "more" row when there are more. */
export const pageSize = 9
const maxRows = 10

const menuReply = (t: Copy, body: string): Reply => ({
  _tag: "ButtonsReply",
  body,
  buttons: [
    { id: menuButtonIds.view_sites, title: t.viewSites },
    { id: menuButtonIds.report_problem, title: t.reportProblem },
    { id: menuButtonIds.talk_to_someone, title: t.talkToSomeone }
  ]
})

interface Item {
  readonly kind: string
  readonly id: string
  readonly label: string
  readonly description?: string | undefined
}

/**
 * A paginated interactive list whose rows are `option_1`…, and the tool output
 * mapping each row id to the entity it stands for: what a later tap (or "2")
 * is resolved against.
 */
const listOf = (
  tool: string,
  items: ReadonlyArray<Item>,
  page: number,
  more: (nextPage: number) => Item,
  render: { body: (pages: number, page: number) => string; button: string; section: string }
): ToolReply => {
  const pages = items.length <= maxRows ? 1 : Math.ceil(items.length / pageSize)
  const current = Math.min(Math.max(page, 1), pages)
  const slice = pages === 1 ? items : items.slice((current - 1) * pageSize, current * pageSize)
  const shown = current < pages ? [...slice, more(current + 1)] : slice
  const options: Record<string, { kind: string; id: string; label: string }> = {}
  const rows: Array<ListRow> = shown.map((item, i) => {
    const id = `option_${i + 1}`
    options[id] = { kind: item.kind, id: item.id, label: item.label }
    return item.description === undefined ? { id, title: item.label } : { id, title: item.label, description: item.description }
  })
  const toolOutput: ToolOutput = { tool, options }
  return {
    reply: { _tag: "ListReplyMessage", body: render.body(pages, current), button: render.button, sections: [{ title: render.section, rows }] },
    toolOutput
  }
}

const projectItems = (projects: ReadonlyArray<Project>, kind: string): ReadonlyArray<Item> =>
  projects.map((p) => ({ kind, id: p.id, label: p.name, description: p.address }))

const taskItems = (t: Copy, tasks: ReadonlyArray<Task>): ReadonlyArray<Item> =>
  tasks.map((task) => ({
    kind: "task",
    id: task.id,
    label: task.title,
    description: [t.status[task.status], task.dueDate].filter(Boolean).join(" · ")
  }))

const single = (tool: string, reply: Reply, extra: Omit<ToolReply, "reply"> = {}): ToolResult => ({ tool, replies: [{ reply, ...extra }] })

/** Runs the action for the request in context. Each branch is one of the assistant's tools. */
export const runTool = Effect.fn("runTool")(function*(action: Action): Effect.fn.Return<ToolResult, StoreUnavailable, RequestContext | Worksite | Handoff> {
  const { user, session, inbound } = yield* RequestContext
  const worksite = yield* Worksite
  const t = copy[user.locale]

  switch (action._tag) {
    case "Menu":
      return single("menu", menuReply(t, t.menu(user.displayName)))
    case "Help":
      return single("help", menuReply(t, t.help))
    case "Unsupported":
      return single("help", menuReply(t, `${t.cannotRead}\n${t.help}`))
    case "Expired":
      return single("menu", menuReply(t, t.expired))
    case "ListProjects": {
      const projects = yield* worksite.projectsOf(user.id)
      if (projects.length === 0) return single("list_projects_tool", menuReply(t, t.noProjects))
      return {
        tool: "list_projects_tool",
        replies: [listOf("list_projects_tool", projectItems(projects, "project"), action.page,
          (next) => ({ kind: "projects_page", id: String(next), label: t.more }),
          { body: (pages, page) => t.projectsBody(projects.length, page, pages), button: t.projectsButton, section: t.viewSites })]
      }
    }
    case "ListTasks": {
      const projects = yield* worksite.projectsOf(user.id)
      const project = projects.find((p) => p.id === action.projectId)
      if (project === undefined) return single("list_tasks_tool", menuReply(t, t.notFound))
      const tasks = yield* worksite.tasksOf(user.id, project.id)
      if (tasks.length === 0) return single("list_tasks_tool", menuReply(t, t.noTasks(project.name)))
      return {
        tool: "list_tasks_tool",
        replies: [listOf("list_tasks_tool", taskItems(t, tasks), action.page,
          (next) => ({ kind: "tasks_page", id: `${project.id}#${next}`, label: t.more }),
          { body: () => t.tasksBody(project.name, tasks.length), button: t.tasksButton, section: project.name.slice(0, 24) })]
      }
    }
    case "TaskDetail":
    case "MarkDone": {
      const task = action._tag === "MarkDone"
        ? yield* worksite.setTaskStatus(user.id, action.taskId, "done")
        : yield* worksite.task(user.id, action.taskId)
      if (task === undefined) return single("task_detail_tool", menuReply(t, t.notFound))
      const body = action._tag === "MarkDone"
        ? t.markedDone(task.title)
        : t.taskDetail(task.title, t.status[task.status], task.dueDate)
      const buttons = [
        ...(task.status === "done" ? [] : [{ id: "option_1", title: t.markDone, kind: "task_done", entity: task.id }]),
        { id: "option_2", title: t.reportProblem, kind: "problem_project", entity: task.projectId },
        { id: "option_3", title: t.back, kind: "project", entity: task.projectId }
      ]
      return single("task_detail_tool", { _tag: "ButtonsReply", body, buttons: buttons.map(({ id, title }) => ({ id, title })) }, {
        toolOutput: {
          tool: "task_detail_tool",
          options: Object.fromEntries(buttons.map((b) => [b.id, { kind: b.kind, id: b.entity, label: b.title }]))
        }
      })
    }
    case "AskProblemProject": {
      const projects = yield* worksite.projectsOf(user.id)
      if (projects.length === 0) return single("report_problem_tool", menuReply(t, t.noProjects))
      return {
        tool: "report_problem_tool",
        replies: [listOf("report_problem_tool", projectItems(projects, "problem_project"), action.page,
          (next) => ({ kind: "problem_projects_page", id: String(next), label: t.more }),
          { body: () => t.whichProject, button: t.projectsButton, section: t.reportProblem.slice(0, 24) })]
      }
    }
    case "AskProblemDescription": {
      const project = (yield* worksite.projectsOf(user.id)).find((p) => p.id === action.projectId)
      if (project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      return single("report_problem_tool", { _tag: "TextReply", body: t.describeProblem(project.name) }, {
        awaiting: { kind: "problem_description", id: project.id }
      })
    }
    case "RecordIncident": {
      const project = (yield* worksite.projectsOf(user.id)).find((p) => p.id === action.projectId)
      if (project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      yield* worksite.reportIncident({
        // The inbox entry's identity makes a retried message record the incident once.
        key: `${inbound.provider}:${inbound.providerMessageId}`,
        projectId: project.id,
        userId: user.id,
        description: action.description,
        ...(action.photoRef === undefined ? {} : { photoRef: action.photoRef }),
        at: yield* Effect.clockWith((c) => c.currentTimeMillis)
      })
      return single("report_problem_tool", menuReply(t, t.incidentRecorded(project.name)))
    }
    case "Escalate": {
      const handoff = yield* Handoff
      yield* handoff.notify({
        userId: user.id,
        sessionId: session.id,
        displayName: user.displayName,
        maskedPhone: maskPhone(user.phone),
        at: yield* Effect.clockWith((c) => c.currentTimeMillis)
      })
      return { tool: "handoff_tool", replies: [{ reply: { _tag: "TextReply", body: t.handedOff } }], escalate: true } satisfies ToolResult
    }
  }
})
