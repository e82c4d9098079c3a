import { Context, Effect, Layer } from "effect"
import { demoAssignments, demoProjects, demoSubcontractors, demoTasks } from "./DemoData.ts"
import { Handoff, logHandoff, type HandoffRequest } from "./Handoff.ts"
import type { SessionId, UserId } from "./Ids.ts"
import { Directory, Incident, Subcontractor, Task, Worksite, type Project } from "./Worksite.ts"

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
    // By id, in registration order; identity changes replace a user's entry.
    const people = new Map(data.subcontractors.map((s) => [s.id, s]))
    const find = (p: (s: Subcontractor) => boolean) => [...people.values()].find(p)
    const update = (s: Subcontractor, change: { readonly phone?: Subcontractor["phone"]; readonly whatsappUserId?: Subcontractor["whatsappUserId"] | undefined }) => {
      const { whatsappUserId: _, ...rest } = s
      const whatsappUserId = "whatsappUserId" in change ? change.whatsappUserId : s.whatsappUserId
      const updated = new Subcontractor({ ...rest, ...(change.phone === undefined ? {} : { phone: change.phone }), ...(whatsappUserId === undefined ? {} : { whatsappUserId }) })
      people.set(s.id, updated)
      return updated
    }
    // An id names one user: recording it for one takes it from whoever had it.
    const link = (s: Subcontractor, userId: NonNullable<Subcontractor["whatsappUserId"]>) => {
      if (s.whatsappUserId === userId) return s
      for (const other of people.values()) if (other.id !== s.id && other.whatsappUserId === userId) update(other, { whatsappUserId: undefined })
      return update(s, { whatsappUserId: userId })
    }
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
    // By session, in the order they were first requested, as the Postgres table's primary key keeps them.
    const handoffs = new Map<SessionId, HandoffRequest>()
    const assigned = (userId: UserId, projectId: Project["id"]) =>
      data.assignments.some(([u, p]) => u === userId && p === projectId)
    const visibleTask = (userId: UserId, taskId: Task["id"]) => {
      const task = tasks.get(taskId)
      return task !== undefined && assigned(userId, task.projectId) ? task : undefined
    }
    const byName = (a: Project, b: Project) => a.name.localeCompare(b.name)

    return Context.make(Directory, Directory.of({
      byPhone: (phone) => Effect.sync(() => find((s) => s.phone === phone)),
      identify: ({ phone, userId }) =>
        Effect.sync(() => {
          const byPhone = phone === undefined ? undefined : find((s) => s.phone === phone)
          if (byPhone !== undefined) return userId === undefined ? byPhone : link(byPhone, userId)
          return userId === undefined ? undefined : find((s) => s.whatsappUserId === userId)
        }),
      updateIdentity: (id, change) =>
        Effect.sync(() => {
          const s = people.get(id)
          if (s === undefined) return undefined
          const taken = change.phone !== undefined && find((o) => o.phone === change.phone && o.id !== id) !== undefined
          const moved = change.phone === undefined || taken ? s : update(s, { phone: change.phone })
          return change.userId === undefined ? moved : link(moved, change.userId)
        })
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
      })),
      Context.add(Handoff, Handoff.of({
        notify: (request) =>
          Effect.suspend(() => {
            if (handoffs.has(request.sessionId)) return Effect.void
            handoffs.set(request.sessionId, request)
            return logHandoff(request)
          }),
        list: (limit) => Effect.sync(() => [...handoffs.values()].slice(-limit).reverse())
      }))
    )
  })

export const InMemoryWorksite = (data: WorksiteData = demoData): Layer.Layer<Directory | Worksite | Handoff> =>
  Layer.effectContext(makeInMemoryWorksite(data))
