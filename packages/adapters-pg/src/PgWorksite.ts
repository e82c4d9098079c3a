import { PgClient } from "@effect/sql-pg"
import { Directory, Incident, PhoneNumber, Project, ProjectId, Subcontractor, Task, TaskId, UserId, Worksite } from "@parley/core"
import { Context, Effect, Layer, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

const SubcontractorRow = Schema.Struct({ id: Schema.String, phone: Schema.String, display_name: Schema.String, locale: Schema.Literals(["fr", "en"]) })
const ProjectRow = Schema.Struct({ id: Schema.String, name: Schema.String, address: Schema.NullOr(Schema.String) })
const TaskRow = Schema.Struct({
  id: Schema.String,
  project_id: Schema.String,
  title: Schema.String,
  status: Schema.Literals(["todo", "in_progress", "done", "blocked"]),
  due_date: Schema.NullOr(Schema.String)
})
const IncidentRow = Schema.Struct({
  id: Schema.String,
  project_id: Schema.String,
  subcontractor_id: Schema.String,
  description: Schema.String,
  photo_ref: Schema.NullOr(Schema.String),
  created_at: Schema.Date
})

const rows = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => Schema.decodeUnknownEffect(Schema.Array(schema))

const toProject = (r: typeof ProjectRow.Type) =>
  new Project({ id: ProjectId.make(r.id), name: r.name, ...(r.address === null ? {} : { address: r.address }) })
const toTask = (r: typeof TaskRow.Type) =>
  new Task({
    id: TaskId.make(r.id),
    projectId: ProjectId.make(r.project_id),
    title: r.title,
    status: r.status,
    ...(r.due_date === null ? {} : { dueDate: r.due_date })
  })

const taskColumns = "t.id::text AS id, t.project_id::text AS project_id, t.title, t.status, to_char(t.due_date, 'YYYY-MM-DD') AS due_date"

/** `Directory` and `Worksite` on Postgres. Every task query joins the assignment: a user only sees their projects. */
export const makePgWorksite = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const directory = Directory.of({
    byPhone: (phone) =>
      sql`SELECT id::text AS id, phone, display_name, locale FROM subcontractors WHERE phone = ${phone}`.pipe(
        Effect.flatMap(rows(SubcontractorRow)),
        Effect.map(([r]) =>
          r && new Subcontractor({ id: UserId.make(r.id), phone: PhoneNumber.make(r.phone), displayName: r.display_name, locale: r.locale })
        ),
        orUnavailable("directory.byPhone")
      )
  })

  const visibleTask = (userId: string, taskId: string) =>
    sql.unsafe(
      `SELECT ${taskColumns} FROM tasks t
       JOIN project_assignments a ON a.project_id = t.project_id AND a.subcontractor_id = $1::uuid
       WHERE t.id = $2::uuid`,
      [userId, taskId]
    ).pipe(Effect.flatMap(rows(TaskRow)), Effect.map(([r]) => r && toTask(r)))

  const worksite = Worksite.of({
    projectsOf: (userId) =>
      sql`SELECT p.id::text AS id, p.name, p.address FROM projects p
          JOIN project_assignments a ON a.project_id = p.id
          WHERE a.subcontractor_id = ${userId}::uuid ORDER BY p.name`.pipe(
        Effect.flatMap(rows(ProjectRow)),
        Effect.map((rs) => rs.map(toProject)),
        orUnavailable("worksite.projectsOf")
      ),

    tasksOf: (userId, projectId) =>
      sql.unsafe(
        `SELECT ${taskColumns} FROM tasks t
         JOIN project_assignments a ON a.project_id = t.project_id AND a.subcontractor_id = $1::uuid
         WHERE t.project_id = $2::uuid ORDER BY t.created_at, t.id`,
        [userId, projectId]
      ).pipe(
        Effect.flatMap(rows(TaskRow)),
        Effect.map((rs) => rs.map(toTask)),
        orUnavailable("worksite.tasksOf")
      ),

    task: (userId, taskId) => visibleTask(userId, taskId).pipe(orUnavailable("worksite.task")),

    setTaskStatus: (userId, taskId, status) =>
      sql.unsafe(
        `UPDATE tasks t SET status = $3 FROM project_assignments a
         WHERE t.id = $2::uuid AND a.project_id = t.project_id AND a.subcontractor_id = $1::uuid
         RETURNING ${taskColumns}`,
        [userId, taskId, status]
      ).pipe(
        Effect.flatMap(rows(TaskRow)),
        Effect.map(([r]) => r && toTask(r)),
        orUnavailable("worksite.setTaskStatus")
      ),

    reportIncident: (input) =>
      sql`
        WITH inserted AS (
          INSERT INTO incidents (report_key, project_id, subcontractor_id, description, photo_ref, created_at)
          VALUES (${input.key}, ${input.projectId}::uuid, ${input.userId}::uuid, ${input.description}, ${input.photoRef ?? null}, ${new Date(input.at)})
          ON CONFLICT (report_key) DO NOTHING
          RETURNING *
        )
        SELECT id::text AS id, project_id::text AS project_id, subcontractor_id::text AS subcontractor_id, description, photo_ref, created_at FROM inserted
        UNION ALL
        SELECT id::text, project_id::text, subcontractor_id::text, description, photo_ref, created_at FROM incidents WHERE report_key = ${input.key}
        LIMIT 1`.pipe(
        Effect.flatMap(rows(IncidentRow)),
        Effect.map(([r]) =>
          new Incident({
            id: r!.id,
            projectId: ProjectId.make(r!.project_id),
            userId: UserId.make(r!.subcontractor_id),
            description: r!.description,
            ...(r!.photo_ref === null ? {} : { photoRef: r!.photo_ref }),
            createdAt: r!.created_at.getTime()
          })
        ),
        orUnavailable("worksite.reportIncident")
      )
  })

  return Context.make(Directory, directory).pipe(Context.add(Worksite, worksite))
})

export const PgWorksite: Layer.Layer<Directory | Worksite, never, PgClient.PgClient> = Layer.effectContext(makePgWorksite)
