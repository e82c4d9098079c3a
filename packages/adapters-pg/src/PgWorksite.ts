import { PgClient } from "@effect/sql-pg"
import { BusinessScopedUserId, Directory, Incident, PhoneNumber, Project, ProjectId, Subcontractor, Task, TaskId, UserId, Worksite } from "@parley/core"
import { Context, Effect, Layer, Schema } from "effect"
import { orUnavailable } from "./mapSqlError.ts"

const SubcontractorRow = Schema.Struct({
  id: Schema.String,
  phone: PhoneNumber,
  whatsapp_user_id: Schema.NullOr(BusinessScopedUserId),
  display_name: Schema.String,
  locale: Schema.Literals(["fr", "en"])
})
const subcontractorColumns = "id::text AS id, phone, whatsapp_user_id, display_name, locale"
const toSubcontractor = (r: typeof SubcontractorRow.Type) =>
  new Subcontractor({
    id: UserId.make(r.id),
    phone: r.phone,
    ...(r.whatsapp_user_id === null ? {} : { whatsappUserId: r.whatsapp_user_id }),
    displayName: r.display_name,
    locale: r.locale
  })
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
  photo_refs: Schema.Array(Schema.String),
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

const toIncident = (r: typeof IncidentRow.Type) =>
  new Incident({
    id: r.id,
    projectId: ProjectId.make(r.project_id),
    userId: UserId.make(r.subcontractor_id),
    description: r.description,
    photoRefs: r.photo_refs,
    createdAt: r.created_at.getTime()
  })

const incidentColumns = `i.id::text AS id, i.project_id::text AS project_id, i.subcontractor_id::text AS subcontractor_id, i.description,
  COALESCE(
    (SELECT array_agg(p.photo_ref ORDER BY p.seq) FROM incident_photos p WHERE p.incident_id = i.id),
    CASE WHEN i.photo_ref IS NULL THEN '{}'::text[] ELSE ARRAY[i.photo_ref] END
  ) AS photo_refs,
  i.created_at`

const taskColumns = "t.id::text AS id, t.project_id::text AS project_id, t.title, t.status, to_char(t.due_date, 'YYYY-MM-DD') AS due_date"

/**
 * `Directory` and `Worksite` on Postgres. Every task query joins the
 * assignment: a user only sees their projects. An incident's photos are rows
 * of `incident_photos` (migration 0006), keyed by photo so adding one again is a no-op.
 */
export const makePgWorksite = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const subcontractor = (where: string, params: ReadonlyArray<unknown>) =>
    sql.unsafe(`SELECT ${subcontractorColumns} FROM subcontractors WHERE ${where}`, params as Array<unknown>).pipe(
      Effect.flatMap(rows(SubcontractorRow)),
      Effect.map(([r]) => r && toSubcontractor(r))
    )
  // The id is taken from whoever had it, then given to the user, in one transaction: an id names one user.
  const linkUserId = (id: string, userId: string) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`UPDATE subcontractors SET whatsapp_user_id = NULL WHERE whatsapp_user_id = ${userId} AND id <> ${id}::uuid`
      yield* sql`UPDATE subcontractors SET whatsapp_user_id = ${userId} WHERE id = ${id}::uuid AND whatsapp_user_id IS DISTINCT FROM ${userId}`
    }))

  const directory = Directory.of({
    byPhone: (phone) => subcontractor("phone = $1", [phone]).pipe(orUnavailable("directory.byPhone")),

    identify: ({ phone, userId }) =>
      Effect.gen(function*() {
        const byPhone = phone === undefined ? undefined : yield* subcontractor("phone = $1", [phone])
        if (byPhone === undefined) return userId === undefined ? undefined : yield* subcontractor("whatsapp_user_id = $1", [userId])
        if (userId === undefined || byPhone.whatsappUserId === userId) return byPhone
        yield* linkUserId(byPhone.id, userId)
        return yield* subcontractor("id = $1::uuid", [byPhone.id])
      }).pipe(orUnavailable("directory.identify")),

    updateIdentity: (id, change) =>
      Effect.gen(function*() {
        // A number another user has is refused (the directory never merges two people); applying it twice is a no-op.
        if (change.phone !== undefined) {
          yield* sql`
            UPDATE subcontractors SET phone = ${change.phone}
            WHERE id = ${id}::uuid AND phone <> ${change.phone}
              AND NOT EXISTS (SELECT 1 FROM subcontractors o WHERE o.phone = ${change.phone})`
        }
        if (change.userId !== undefined) yield* linkUserId(id, change.userId)
        return yield* subcontractor("id = $1::uuid", [id])
      }).pipe(orUnavailable("directory.updateIdentity"))
  })

  const visibleTask = (userId: string, taskId: string) =>
    sql.unsafe(
      `SELECT ${taskColumns} FROM tasks t
       JOIN project_assignments a ON a.project_id = t.project_id AND a.subcontractor_id = $1::uuid
       WHERE t.id = $2::uuid`,
      [userId, taskId]
    ).pipe(Effect.flatMap(rows(TaskRow)), Effect.map(([r]) => r && toTask(r)))

  const incidents = (where: string, params: ReadonlyArray<unknown>) =>
    sql.unsafe(`SELECT ${incidentColumns} FROM incidents i WHERE ${where}`, params as Array<unknown>).pipe(
      Effect.flatMap(rows(IncidentRow)),
      Effect.map((rs) => rs.map(toIncident))
    )
  const ownIncident = (userId: string, incidentId: string) =>
    Effect.map(incidents("i.id = $1::uuid AND i.subcontractor_id = $2::uuid", [incidentId, userId]), ([i]) => i)

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
      Effect.gen(function*() {
        // One statement: the incident and its first photo exist together, or (a retried message) neither is written again.
        yield* sql`
          WITH inserted AS (
            INSERT INTO incidents (report_key, project_id, subcontractor_id, description, photo_ref, created_at)
            VALUES (${input.key}, ${input.projectId}::uuid, ${input.userId}::uuid, ${input.description}, ${input.photoRef ?? null}, ${new Date(input.at)})
            ON CONFLICT (report_key) DO NOTHING
            RETURNING id, photo_ref, created_at
          )
          INSERT INTO incident_photos (incident_id, photo_ref, added_at)
          SELECT id, photo_ref, created_at FROM inserted WHERE photo_ref IS NOT NULL`
        const [incident] = yield* incidents("i.report_key = $1", [input.key])
        return incident!
      }).pipe(orUnavailable("worksite.reportIncident")),

    attachIncidentPhoto: (photo) =>
      Effect.gen(function*() {
        yield* sql`
          INSERT INTO incident_photos (incident_id, photo_ref, added_at)
          SELECT i.id, ${photo.photoRef}, ${new Date(photo.at)} FROM incidents i
          WHERE i.id = ${photo.incidentId}::uuid AND i.subcontractor_id = ${photo.userId}::uuid
          ON CONFLICT (incident_id, photo_ref) DO NOTHING`
        return yield* ownIncident(photo.userId, photo.incidentId)
      }).pipe(orUnavailable("worksite.attachIncidentPhoto")),

    describeIncident: (userId, incidentId, description) =>
      Effect.gen(function*() {
        yield* sql`
          UPDATE incidents SET description = ${description}
          WHERE id = ${incidentId}::uuid AND subcontractor_id = ${userId}::uuid AND description = ''`
        return yield* ownIncident(userId, incidentId)
      }).pipe(orUnavailable("worksite.describeIncident")),

    incident: (userId, incidentId) => ownIncident(userId, incidentId).pipe(orUnavailable("worksite.incident")),

    incidentsOf: (userId) =>
      incidents("i.subcontractor_id = $1::uuid ORDER BY i.seq DESC", [userId]).pipe(orUnavailable("worksite.incidentsOf"))
  })

  return Context.make(Directory, directory).pipe(Context.add(Worksite, worksite))
})

export const PgWorksite: Layer.Layer<Directory | Worksite, never, PgClient.PgClient> = Layer.effectContext(makePgWorksite)
