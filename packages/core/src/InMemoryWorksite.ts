import { Context, Effect, Layer } from "effect"
import { demoAssignments, demoProjects, demoSubcontractors, demoTasks } from "./DemoData.ts"
import { Handoff, type HandoffRequest } from "./Handoff.ts"
import type { UserId } from "./Ids.ts"
import { Directory, Incident, Task, Worksite, type Project, type Subcontractor } from "./Worksite.ts"

export interface WorksiteData {
  readonly subcontractors: ReadonlyArray<Subcontractor>
  readonly projects: ReadonlyArray<Project>
  readonly assignments: ReadonlyArray<readonly [UserId, Project["id"]]>
  readonly tasks: ReadonlyArray<Task>
}

export const demoData: WorksiteData = {
  subcontractors: demoSubcontractors,
  projects: demoProjects,
  assignments: demoAssignments,
  tasks: demoTasks
}

/** `Directory`, `Worksite` and `Handoff` in memory, starting from `data` (the demo company by default). */
export const makeInMemoryWorksite = (data: WorksiteData = demoData) =>
  Effect.sync(() => {
    const tasks = new Map(data.tasks.map((t) => [t.id, t]))
    const incidents = new Map<string, Incident>()
    const handoffs: Array<HandoffRequest> = []
    const assigned = (userId: UserId, projectId: Project["id"]) =>
      data.assignments.some(([u, p]) => u === userId && p === projectId)
    const visibleTask = (userId: UserId, taskId: Task["id"]) => {
      const task = tasks.get(taskId)
      return task !== undefined && assigned(userId, task.projectId) ? task : undefined
    }
    const byName = (a: Project, b: Project) => a.name.localeCompare(b.name)

    return Context.make(Directory, Directory.of({
      byPhone: (phone) => Effect.sync(() => data.subcontractors.find((s) => s.phone === phone))
    })).pipe(
      Context.add(Worksite, Worksite.of({
        projectsOf: (userId) => Effect.sync(() => data.projects.filter((p) => assigned(userId, p.id)).sort(byName)),
        tasksOf: (userId, projectId) =>
          Effect.sync(() => assigned(userId, projectId) ? [...tasks.values()].filter((t) => t.projectId === projectId) : []),
        task: (userId, taskId) => Effect.sync(() => visibleTask(userId, taskId)),
        setTaskStatus: (userId, taskId, status) =>
          Effect.sync(() => {
            const task = visibleTask(userId, taskId)
            if (task === undefined) return undefined
            const updated = new Task({ ...task, status })
            tasks.set(taskId, updated)
            return updated
          }),
        reportIncident: (input) =>
          Effect.sync(() => {
            const existing = incidents.get(input.key)
            if (existing !== undefined) return existing
            const incident = new Incident({
              id: crypto.randomUUID(),
              projectId: input.projectId,
              userId: input.userId,
              description: input.description,
              ...(input.photoRef === undefined ? {} : { photoRef: input.photoRef }),
              createdAt: input.at
            })
            incidents.set(input.key, incident)
            return incident
          })
      })),
      Context.add(Handoff, Handoff.of({
        notify: (request) =>
          Effect.andThen(
            Effect.sync(() => handoffs.push(request)),
            Effect.logWarning("conversation handed to a human").pipe(Effect.annotateLogs({
              event: "handoff.requested",
              sessionId: request.sessionId,
              user: request.displayName,
              phone: request.maskedPhone
            }))
          ),
        list: (limit) => Effect.sync(() => handoffs.slice(-limit).reverse())
      }))
    )
  })

export const InMemoryWorksite = (data: WorksiteData = demoData): Layer.Layer<Directory | Worksite | Handoff> =>
  Layer.effectContext(makeInMemoryWorksite(data))
