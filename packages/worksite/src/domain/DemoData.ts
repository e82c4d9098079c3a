import { PhoneNumber, UserId } from "@parley/core"
import { Project, ProjectId, Subcontractor, Task, TaskId } from "./Worksite.ts"

/**
 * The demo company: what `npm start` seeds on an embedded database and what
 * the in-memory adapters start with. Ids are fixed so seeding is idempotent.
 */
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`

export const demoSubcontractors: ReadonlyArray<Subcontractor> = [
  new Subcontractor({ id: UserId.make(uuid(1)), phone: PhoneNumber.make("+33612345678"), displayName: "Karim", locale: "fr" }),
  new Subcontractor({ id: UserId.make(uuid(2)), phone: PhoneNumber.make("+447700900123"), displayName: "Sarah", locale: "en" }),
  new Subcontractor({ id: UserId.make(uuid(3)), phone: PhoneNumber.make("+33698765432"), displayName: "Lucie", locale: "fr" })
]

export const demoProjects: ReadonlyArray<Project> = [
  new Project({ id: ProjectId.make(uuid(101)), name: "Champigny", address: "12 rue de Bernaü, Champigny-sur-Marne" }),
  new Project({ id: ProjectId.make(uuid(102)), name: "Ivry-sur-Seine", address: "5 quai Marcel Boyer, Ivry" }),
  new Project({ id: ProjectId.make(uuid(103)), name: "Montreuil", address: "40 rue de Paris, Montreuil" })
]

/** Who works where: Karim and Sarah on all three sites, Lucie on Montreuil only. */
export const demoAssignments: ReadonlyArray<readonly [UserId, ProjectId]> = [
  ...demoProjects.map((p) => [demoSubcontractors[0]!.id, p.id] as const),
  ...demoProjects.map((p) => [demoSubcontractors[1]!.id, p.id] as const),
  [demoSubcontractors[2]!.id, demoProjects[2]!.id]
]

const task = (n: number, project: number, title: string, status: Task["status"], dueDate?: string) =>
  new Task({
    id: TaskId.make(uuid(1000 + n)),
    projectId: demoProjects[project]!.id,
    title,
    status,
    ...(dueDate === undefined ? {} : { dueDate })
  })

export const demoTasks: ReadonlyArray<Task> = [
  task(1, 0, "Pose des cloisons R+1", "in_progress", "2026-12-04"),
  task(2, 0, "Réseau électrique lot B", "todo", "2026-12-11"),
  task(3, 0, "Ragréage hall d'entrée", "todo"),
  task(4, 1, "Étanchéité toiture", "blocked", "2026-12-01"),
  task(5, 1, "Menuiseries extérieures", "todo", "2026-12-18"),
  task(6, 2, "Peinture cage d'escalier", "in_progress"),
  task(7, 2, "Carrelage sanitaires", "done")
]
