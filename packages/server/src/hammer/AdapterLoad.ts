import { PgSessionStore } from "@parley/adapters-pg"
import { SessionStore } from "@parley/core"
import { DateTime, Effect } from "effect"
import type { LoadContext } from "./LoadContext.ts"

/**
 * `SessionStore.getOrCreateActive` through the Postgres adapter, with the
 * policy's idle timeout forced short: callers of one user race on creation
 * and on expire-and-create, `now` being each caller's own clock.
 */
export const adapterLoad = (context: LoadContext) =>
  Effect.gen(function*() {
    const store = yield* SessionStore
    const policy = { idleTimeout: context.idleTimeout }
    yield* context.callers((user) => Effect.flatMap(DateTime.now, (now) => store.getOrCreateActive(user.id, now, policy)))
  }).pipe(Effect.provide(PgSessionStore))
