import { Context, Effect, Layer } from "effect"
import { demoAssignments, demoProjects, demoSubcontractors, demoTasks } from "../domain/DemoData.ts"
import { Directory, type UserId } from "@parley/core"
import { makeInMemoryDirectory } from "@parley/core/memory"
import { Incident, Subcontractor, Task, Worksite, type Project } from "../domain/Worksite.ts"

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

/** `Directory` (the subcontractors, by phone) and `Worksite` in memory, starting from `data` (the demo company by default). */
export const makeInMemoryWorksite = (data: WorksiteData = demoData) =>
  Effect.sync(() => {
    const tasks = new Map(data.tasks.map((t) => [t.id, t]))
    // Identity changes (a new number, a WhatsApp user id) replace a user's entry, as a Subcontractor still.
    const directory = makeInMemoryDirectory(data.subcontractors, (s, { phone, whatsappUserId }) => {
      const { whatsappUserId: _, ...rest } = s
      return new Subcontractor({ ...rest, phone, ...(whatsappUserId === undefined ? {} : { whatsappUserId }) })
    })
    // By id, in the order they were reported; the report key (the inbound message) names the one it created.
    const incidents = new Map<string, Incident>()
    const incidentsByKey = new Map<string, string>()
    const ownIncident = (userId: UserId, incidentId: string) => {
      const incident = incidents.get(incidentId)
      return incident?.userId === userId ? incident : undefined
    }
    const save = (incident: Incident) => {
      incidents.set(incident.id, incident)
      return incident
    }
    const assigned = (userId: UserId, projectId: Project["id"]) =>
      data.assignments.some(([u, p]) => u === userId && p === projectId)
    const visibleTask = (userId: UserId, taskId: Task["id"]) => {
      const task = tasks.get(taskId)
      return task !== undefined && assigned(userId, task.projectId) ? task : undefined
    }
    const byName = (a: Project, b: Project) => a.name.localeCompare(b.name)

    return Context.make(Directory, Directory.of(directory)).pipe(
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
            const existing = incidentsByKey.get(input.key)
            if (existing !== undefined) return incidents.get(existing)!
            const incident = new Incident({
              id: crypto.randomUUID(),
              projectId: input.projectId,
              userId: input.userId,
              description: input.description,
              photoRefs: input.photoRef === undefined ? [] : [input.photoRef],
              createdAt: input.at
            })
            incidentsByKey.set(input.key, incident.id)
            incidents.set(incident.id, incident)
            return incident
          }),
        attachIncidentPhoto: (photo) =>
          Effect.sync(() => {
            const incident = ownIncident(photo.userId, photo.incidentId)
            if (incident === undefined || incident.photoRefs.includes(photo.photoRef)) return incident
            return save(new Incident({ ...incident, photoRefs: [...incident.photoRefs, photo.photoRef] }))
          }),
        describeIncident: (userId, incidentId, description) =>
          Effect.sync(() => {
            const incident = ownIncident(userId, incidentId)
            if (incident === undefined || incident.description !== "") return incident
            return save(new Incident({ ...incident, description }))
          }),
        incident: (userId, incidentId) => Effect.sync(() => ownIncident(userId, incidentId)),
        incidentsOf: (userId) => Effect.sync(() => [...incidents.values()].filter((i) => i.userId === userId).reverse())
      }))
    )
  })

export const InMemoryWorksite = (data: WorksiteData = demoData): Layer.Layer<Directory | Worksite> =>
  Layer.effectContext(makeInMemoryWorksite(data))
