import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { demoData, type WorksiteData } from "../memory/InMemoryWorksite.ts"

/**
 * Inserts the demo company (the same data the in-memory adapters start with):
 * idempotent, so `npm start` can run it on every start of the embedded database.
 */
export const seedDemo = (data: WorksiteData = demoData) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    for (const s of data.subcontractors) {
      yield* sql`INSERT INTO subcontractors (id, phone, display_name, locale)
                 VALUES (${s.id}::uuid, ${s.phone}, ${s.displayName}, ${s.locale}) ON CONFLICT DO NOTHING`
    }
    for (const p of data.projects) {
      yield* sql`INSERT INTO projects (id, name, address) VALUES (${p.id}::uuid, ${p.name}, ${p.address ?? null}) ON CONFLICT DO NOTHING`
    }
    for (const [userId, projectId] of data.assignments) {
      yield* sql`INSERT INTO project_assignments (subcontractor_id, project_id) VALUES (${userId}::uuid, ${projectId}::uuid) ON CONFLICT DO NOTHING`
    }
    for (const [i, t] of data.tasks.entries()) {
      yield* sql`INSERT INTO tasks (id, project_id, title, status, due_date, created_at)
                 VALUES (${t.id}::uuid, ${t.projectId}::uuid, ${t.title}, ${t.status}, ${t.dueDate ?? null}::date,
                         timestamptz '2026-01-01' + ${i} * interval '1 minute')
                 ON CONFLICT DO NOTHING`
    }
  }).pipe(Effect.withSpan("seedDemo"))
