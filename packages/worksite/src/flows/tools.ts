import { Effect } from "effect"
import type { Action, OptionKind } from "./Action.ts"
import { copy, type Copy } from "../copy/Copy.ts"
import { count, Directory, directoryChanges, keyOf, type ListRow, maskPhone, type Reply, RequestContext, type StoreUnavailable } from "@parley/core"
import type { ToolOutput } from "../WorksiteState.ts"
import { menuButtonIds, type Intent } from "../understanding/Intent.ts"
import type { ToolReply, ToolResult } from "./ToolResult.ts"
import { localeOf, Worksite, type Incident, type Project, type ProjectId, type Task } from "../domain/Worksite.ts"

/** WhatsApp shows at most 10 rows in a list: 9 items and a "more" row when there are more. */
export const pageSize = 9
const maxRows = 10

type Back = NonNullable<ToolOutput["back"]>
const toMenu: Back = { kind: "menu", id: "greeting" satisfies Intent }

interface Button {
  readonly id: string
  readonly title: string
  readonly kind: OptionKind
  readonly entity: string
}

/**
 * Reply buttons and the tool output that maps each to what it stands for, so
 * a tap, or its label or number typed back (Twilio renders buttons as
 * numbered text), resolves through the history.
 */
const buttons = (
  tool: string,
  body: string,
  shown: ReadonlyArray<Button>,
  extra: { readonly awaiting?: ToolReply["awaiting"]; readonly back?: Back } = {}
): ToolReply => ({
  reply: { _tag: "ButtonsReply", body, buttons: shown.map(({ id, title }) => ({ id, title })) },
  toolOutput: {
    tool,
    options: Object.fromEntries(shown.map((b) => [b.id, { kind: b.kind, id: b.entity, label: b.title }])),
    ...(extra.back === undefined ? {} : { back: extra.back })
  },
  ...(extra.awaiting === undefined ? {} : { awaiting: extra.awaiting })
})

/**
 * The menu needs no tool output: its button ids are the intents themselves,
 * so a tap resolves from the id alone, and its number or label typed back
 * from the stored reply.
 */
const menuReply = (t: Copy, body: string): ToolReply => ({
  reply: {
    _tag: "ButtonsReply",
    body,
    buttons: [
      { id: menuButtonIds.view_sites, title: t.viewSites },
      { id: menuButtonIds.report_problem, title: t.reportProblem },
      { id: menuButtonIds.talk_to_someone, title: t.talkToSomeone }
    ]
  }
})

interface Item {
  readonly kind: OptionKind
  readonly id: string
  readonly label: string
  readonly description?: string | undefined
}

/**
 * A paginated interactive list whose rows are `option_1`…, and the tool output
 * mapping each row id to the entity it stands for: what a later tap (or "2")
 * is resolved against. `back` says where a typed "back" leads from the page shown.
 */
const listOf = (
  tool: string,
  items: ReadonlyArray<Item>,
  page: number,
  more: (nextPage: number) => Item,
  back: (page: number) => Back,
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
  return {
    reply: { _tag: "ListReplyMessage", body: render.body(pages, current), button: render.button, sections: [{ title: render.section, rows }] },
    toolOutput: { tool, options, back: back(current) }
  }
}

const projectItems = (projects: ReadonlyArray<Project>, kind: OptionKind): ReadonlyArray<Item> =>
  projects.map((p) => ({ kind, id: p.id, label: p.name, description: p.address }))

const taskItems = (t: Copy, tasks: ReadonlyArray<Task>): ReadonlyArray<Item> =>
  tasks.map((task) => ({
    kind: "task",
    id: task.id,
    label: task.title,
    description: [t.status[task.status], task.dueDate].filter(Boolean).join(" · ")
  }))

const single = (tool: string, reply: ToolReply): ToolResult => ({ tool, replies: [reply] })
const text = (body: string, extra: Omit<ToolReply, "reply"> = {}): ToolReply => ({ reply: { _tag: "TextReply", body } satisfies Reply, ...extra })

/** While a report waits for photos: the buttons that end it, and the question the next photo answers. */
const photoPrompt = (t: Copy, incident: Incident, body: string, offerPhoto: boolean): ToolReply =>
  buttons("report_problem_tool", body, [
    ...(offerPhoto ? [{ id: "option_1", title: t.addPhoto, kind: "incident_photo" as const, entity: incident.id }] : []),
    { id: "option_2", title: t.done, kind: "incident_done", entity: incident.id }
  ], { awaiting: { kind: "problem_photo", id: incident.id } })

const describePrompt = (t: Copy, incident: Incident, project: Project): ToolReply =>
  text(t.describePhoto(project.name), { awaiting: { kind: "problem_details", id: incident.id } })

/** Runs the action for the request in context. Each branch is one of the assistant's tools. */
export const runTool = Effect.fn("runTool")(function*(action: Action): Effect.fn.Return<ToolResult, StoreUnavailable, RequestContext | Worksite | Directory> {
  const { user, inbound } = yield* RequestContext
  const worksite = yield* Worksite
  const t = copy[localeOf(user)]
  const now = Effect.clockWith((c) => c.currentTimeMillis)
  // One of the user's projects: an id from a tap or an incident is only trusted through their assignments.
  const projectById = (id: ProjectId) => Effect.map(worksite.projectsOf(user.id), (projects) => projects.find((p) => p.id === id))
  const projectOf = (incident: Incident | undefined) =>
    incident === undefined ? Effect.succeed(undefined) : projectById(incident.projectId)

  switch (action._tag) {
    case "Menu":
      return single("menu", menuReply(t, t.menu(user.displayName)))
    case "Help":
      return single("help", menuReply(t, t.help))
    case "Unsupported":
      return single("help", menuReply(t, `${t.cannotRead}\n${t.help}`))
    case "Expired":
      return single("menu", menuReply(t, t.expired))
    // Kept in the session by the turn; nothing is sent.
    case "Record":
      return { tool: "record", replies: [] }
    case "UpdateIdentity": {
      const after = yield* (yield* Directory).updateIdentity(user.id, { phone: action.phone, userId: action.userId })
      const changes = [
        ...(after !== undefined && after.phone !== user.phone ? ["phone"] : []),
        // Another user has that number: the directory never merges two people; someone must look.
        ...(action.phone !== undefined && after?.phone !== action.phone ? ["phone_refused"] : []),
        ...(after !== undefined && after.whatsappUserId !== user.whatsappUserId ? ["user_id"] : [])
      ]
      for (const change of changes) yield* count(directoryChanges, { change })
      yield* Effect.logInfo("directory updated").pipe(Effect.annotateLogs({
        event: "directory.identity_changed",
        userId: user.id,
        changes: changes.join(","),
        ...(action.phone === undefined ? {} : { newPhone: maskPhone(action.phone) })
      }))
      return { tool: "directory", replies: [] }
    }
    case "ListProjects": {
      const projects = yield* worksite.projectsOf(user.id)
      if (projects.length === 0) return single("list_projects_tool", menuReply(t, t.noProjects))
      return single("list_projects_tool", listOf("list_projects_tool", projectItems(projects, "project"), action.page,
        (next) => ({ kind: "projects_page", id: String(next), label: t.more }),
        (page) => (page > 1 ? { kind: "projects_page", id: String(page - 1) } : toMenu),
        { body: (pages, page) => t.projectsBody(projects.length, page, pages), button: t.projectsButton, section: t.viewSites }))
    }
    case "ListTasks": {
      const project = yield* projectById(action.projectId)
      if (project === undefined) return single("list_tasks_tool", menuReply(t, t.notFound))
      const tasks = yield* worksite.tasksOf(user.id, project.id)
      if (tasks.length === 0) return single("list_tasks_tool", menuReply(t, t.noTasks(project.name)))
      return single("list_tasks_tool", listOf("list_tasks_tool", taskItems(t, tasks), action.page,
        (next) => ({ kind: "tasks_page", id: `${project.id}#${next}`, label: t.more }),
        (page) => (page > 1 ? { kind: "tasks_page", id: `${project.id}#${page - 1}` } : { kind: "projects_page", id: "1" }),
        { body: () => t.tasksBody(project.name, tasks.length), button: t.tasksButton, section: project.name.slice(0, 24) }))
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
      return single("task_detail_tool", buttons("task_detail_tool", body, [
        ...(task.status === "done" ? [] : [{ id: "option_1", title: t.markDone, kind: "task_done" as const, entity: task.id }]),
        { id: "option_2", title: t.reportProblem, kind: "problem_project", entity: task.projectId },
        { id: "option_3", title: t.back, kind: "project", entity: task.projectId }
      ], { back: { kind: "project", id: task.projectId } }))
    }
    case "AskProblemProject": {
      const projects = yield* worksite.projectsOf(user.id)
      if (projects.length === 0) return single("report_problem_tool", menuReply(t, t.noProjects))
      return single("report_problem_tool", listOf("report_problem_tool", projectItems(projects, "problem_project"), action.page,
        (next) => ({ kind: "problem_projects_page", id: String(next), label: t.more }),
        (page) => (page > 1 ? { kind: "problem_projects_page", id: String(page - 1) } : toMenu),
        { body: () => t.whichProject, button: t.projectsButton, section: t.reportProblem.slice(0, 24) }))
    }
    case "AskProblemDescription": {
      const project = yield* projectById(action.projectId)
      if (project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      return single("report_problem_tool", text(t.describeProblem(project.name), { awaiting: { kind: "problem_description", id: project.id } }))
    }
    case "RecordIncident": {
      const project = yield* projectById(action.projectId)
      if (project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      // The inbox entry's identity makes a retried message record the incident once, and answer as the first time did.
      const incident = yield* worksite.reportIncident({
        key: keyOf(inbound),
        projectId: project.id,
        userId: user.id,
        description: action.description,
        ...(action.photoRef === undefined ? {} : { photoRef: action.photoRef }),
        at: yield* now
      })
      // A photo alone asks for words; words alone offer a photo; a photo with its caption is the whole report.
      if (incident.description === "") return single("report_problem_tool", describePrompt(t, incident, project))
      if (incident.photoRefs.length === 0) return single("report_problem_tool", photoPrompt(t, incident, t.incidentRecordedAskPhoto(project.name), true))
      return single("report_problem_tool", menuReply(t, t.incidentRecorded(project.name)))
    }
    case "AttachIncidentPhoto": {
      const attached = yield* worksite.attachIncidentPhoto({ userId: user.id, incidentId: action.incidentId, photoRef: action.photoRef, at: yield* now })
      const incident = attached !== undefined && attached.description === "" && action.caption
        ? yield* worksite.describeIncident(user.id, attached.id, action.caption)
        : attached
      const project = yield* projectOf(incident)
      if (incident === undefined || project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      if (incident.description === "") return single("report_problem_tool", describePrompt(t, incident, project))
      return single("report_problem_tool", photoPrompt(t, incident, t.photoAdded(project.name, incident.photoRefs.length), false))
    }
    case "AskIncidentPhoto": {
      const incident = yield* worksite.incident(user.id, action.incidentId)
      if (incident === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      return single("report_problem_tool", photoPrompt(t, incident, action.reminder ? t.waitingForPhoto : t.sendPhoto, false))
    }
    case "DescribeIncident":
    case "FinishIncident": {
      const incident = action._tag === "DescribeIncident"
        ? yield* worksite.describeIncident(user.id, action.incidentId, action.description)
        : yield* worksite.incident(user.id, action.incidentId)
      const project = yield* projectOf(incident)
      if (project === undefined) return single("report_problem_tool", menuReply(t, t.notFound))
      return single("report_problem_tool", menuReply(t, t.incidentRecorded(project.name)))
    }
    case "Escalate":
      // The engine records the handoff (once per session) and ends the session with this turn.
      return { tool: "handoff_tool", replies: [text(t.handedOff)], escalate: true } satisfies ToolResult
  }
})
