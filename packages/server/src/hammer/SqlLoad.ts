import { PgClient } from "@effect/sql-pg"
import { Duration, Effect } from "effect"
import type { LoadContext } from "./LoadContext.ts"

/**
 * The seed's RPC as a Supabase client calls it: one plain statement per
 * call, named arguments, the database's own `now()`. A short idle timeout
 * makes most calls race on expire-and-create as well as on creation.
 */
export const sqlLoad = (context: LoadContext) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const timeout = `${Duration.toMillis(context.idleTimeout)} milliseconds`
    const call = (userId: string) =>
      sql.unsafe<{ id: string }>(
        "SELECT get_or_create_session(p_subcontractor_id => $1::uuid, p_idle_timeout => $2::interval) AS id",
        [userId, timeout]
      )
    yield* context.callers((user) => call(user.id))
  })
