import { DateTime, Duration, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import type { SessionId, UserId } from "../../identity/Ids.ts"
import { resolveSession } from "../../session/resolveSession.ts"
import type { Session } from "../../session/Session.ts"
import { SessionPolicy, type SessionPolicyShape } from "../../session/SessionPolicy.ts"
import { SessionStore } from "../../session/SessionStore.ts"

/**
 * A random schedule of concurrent requests against a `SessionStore`.
 *
 * Steps run one after another; inside a `Batch` every request runs
 * concurrently, each yielding a random number of times between its stages so
 * fibers (and, for a database, connections) interleave differently on every
 * run. Time only moves in `Advance` steps, so within a batch there is no idle
 * gap and the expected outcome of every request is known exactly.
 */
export type Step =
  | { readonly _tag: "Batch"; readonly requests: ReadonlyArray<RequestPlan> }
  | { readonly _tag: "Advance"; readonly millis: number }
  | { readonly _tag: "Escalate"; readonly user: number }

export interface RequestPlan {
  readonly user: number
  /** Yields before resolving, then before each write. */
  readonly pauses: ReadonlyArray<number>
}

export interface Schedule {
  readonly users: number
  readonly steps: ReadonlyArray<Step>
}

export interface ScheduleBounds {
  readonly maxUsers: number
  readonly maxSteps: number
  readonly maxRequestsPerBatch: number
  readonly maxWrites: number
  readonly maxPause: number
}

export const defaultBounds: ScheduleBounds = {
  maxUsers: 3,
  maxSteps: 8,
  maxRequestsPerBatch: 8,
  maxWrites: 3,
  maxPause: 6
}

export const policy: SessionPolicyShape = { idleTimeout: Duration.minutes(30) }
const timeoutMillis = Duration.toMillis(policy.idleTimeout)

/** Clock jumps that straddle the idle timeout, its exact boundary included. */
const advance = fc.oneof(
  fc.integer({ min: 1, max: timeoutMillis - 1 }),
  fc.constant(timeoutMillis),
  fc.integer({ min: timeoutMillis + 1, max: 3 * timeoutMillis })
).map((millis): Step => ({ _tag: "Advance", millis }))

export const scheduleArbitrary = (bounds: ScheduleBounds = defaultBounds): fc.Arbitrary<Schedule> =>
  fc.integer({ min: 1, max: bounds.maxUsers }).chain((users) => {
    const user = fc.integer({ min: 0, max: users - 1 })
    const request = fc.record({
      user,
      pauses: fc.array(fc.nat(bounds.maxPause), { minLength: 1, maxLength: bounds.maxWrites + 1 })
    })
    const batch = fc.array(request, { minLength: 1, maxLength: bounds.maxRequestsPerBatch })
      .map((requests): Step => ({ _tag: "Batch", requests }))
    const escalate = user.map((u): Step => ({ _tag: "Escalate", user: u }))
    const step = fc.oneof(
      { arbitrary: batch, weight: 5 },
      { arbitrary: advance, weight: 3 },
      { arbitrary: escalate, weight: 1 }
    )
    return fc.record({ users: fc.constant(users), steps: fc.array(step, { minLength: 1, maxLength: bounds.maxSteps }) })
  })

/** What one request observed: the session it resolved first and where each of its writes went. */
export interface RequestRecord {
  readonly step: number
  readonly user: number
  readonly outcome: string
  readonly sessionId: SessionId
  readonly writes: ReadonlyArray<SessionId>
}

export interface RunOptions {
  /** How the run obtains a user id the store accepts (the Postgres store needs a real row). */
  readonly newUser: Effect.Effect<UserId, unknown, never>
  /**
   * Whether a request carries its resolved session to later stages. Disabling
   * it reintroduces the seed's bug; only negative tests turn it off.
   */
  readonly carry: boolean
}

const pause = (n: number) => Effect.repeat(Effect.yieldNow, { times: n })

const activeSessions = (sessions: ReadonlyArray<Session>) => sessions.filter((s) => s.isActive)

/**
 * Runs a schedule against the `SessionStore` in context and returns the list
 * of invariant violations (empty when the store honours its contract). Time is
 * read from `Clock`, so run it under `TestClock`.
 */
export const runSchedule = Effect.fnUntraced(function*(schedule: Schedule, options: RunOptions) {
  const store = yield* SessionStore
  const violations: Array<string> = []
  const users = yield* Effect.forEach(Array.from({ length: schedule.users }), () => options.newUser)
  const userId = (u: number): UserId => users[u]!
  const carry = options.carry ?? true

  const checkOneActive = (u: number, when: string) =>
    store.listByUser(userId(u)).pipe(
      Effect.map((sessions) => {
        const active = activeSessions(sessions)
        if (active.length > 1) {
          violations.push(`[1] user ${u} has ${active.length} active sessions ${when}: ${active.map((s) => s.id).join(", ")}`)
        }
      })
    )

  const runRequest = (step: number, plan: RequestPlan) =>
    Effect.gen(function*() {
      const [first = 0, ...rest] = plan.pauses
      yield* pause(first)
      const resolved = yield* resolveSession(userId(plan.user))
      const writes: Array<SessionId> = []
      for (const p of rest) {
        yield* pause(p)
        const target = carry ? Option.some(resolved.session.id) : Option.none<SessionId>()
        const { session } = yield* resolveSession(userId(plan.user), target)
        const now = yield* DateTime.now
        yield* store.touch(session.id, now)
        writes.push(session.id)
      }
      yield* checkOneActive(plan.user, `after a request of step ${step}`)
      return { step, user: plan.user, outcome: resolved.outcome, sessionId: resolved.session.id, writes } satisfies RequestRecord
    })

  // The reference model: what each user's active session must be between steps.
  const model = new Map<number, { readonly id: SessionId; readonly lastActivity: number }>()
  const seen = new Set<SessionId>()

  for (const [index, step] of schedule.steps.entries()) {
    switch (step._tag) {
      case "Advance": {
        yield* TestClock.adjust(Duration.millis(step.millis))
        break
      }
      case "Escalate": {
        const active = activeSessions(yield* store.listByUser(userId(step.user)))
        for (const s of active) {
          yield* store.escalate(s.id, yield* DateTime.now).pipe(Effect.catchTag("SessionNotActive", () => Effect.void))
        }
        model.delete(step.user)
        break
      }
      case "Batch": {
        const records = yield* Effect.forEach(step.requests, (plan) => runRequest(index, plan), { concurrency: "unbounded" })
        const now = DateTime.toEpochMillis(yield* DateTime.now)
        for (let u = 0; u < schedule.users; u++) {
          const mine = records.filter((r) => r.user === u)
          if (mine.length === 0) continue
          // [2] one session per request, every write in it.
          for (const r of mine) {
            const strays = r.writes.filter((w) => w !== r.sessionId)
            if (strays.length > 0) violations.push(`[2] a request of user ${u} at step ${index} resolved ${r.sessionId} but wrote to ${strays.join(", ")}`)
          }
          // [3] no idle gap inside a batch: all requests of the user share one session.
          const ids = new Set(mine.map((r) => r.sessionId))
          if (ids.size !== 1) {
            violations.push(`[3] user ${u} got ${ids.size} sessions from ${mine.length} concurrent requests at step ${index}: ${[...ids].join(", ")}`)
            continue
          }
          const sessionId = mine[0]!.sessionId
          const previous = model.get(u)
          const continues = previous !== undefined && now - previous.lastActivity <= timeoutMillis
          const creators = mine.filter((r) => r.outcome !== "reused")
          if (continues) {
            if (sessionId !== previous.id) violations.push(`[3] user ${u} moved from ${previous.id} to ${sessionId} at step ${index} without an idle gap`)
            if (creators.length > 0) violations.push(`[3] user ${u} saw outcomes ${creators.map((r) => r.outcome).join(", ")} at step ${index} where the session should be reused`)
          } else {
            if (seen.has(sessionId)) violations.push(`[4] user ${u} reused ${sessionId} at step ${index} after it ended or idled out`)
            const expected = previous === undefined ? "created" : "expired_then_created"
            if (creators.length !== 1 || creators[0]!.outcome !== expected) {
              violations.push(`[4] user ${u} at step ${index}: expected exactly one '${expected}', saw ${mine.map((r) => r.outcome).join(", ")}`)
            }
            if (previous !== undefined) {
              const old = yield* store.findById(previous.id)
              if (old.status !== "ended" || Option.getOrUndefined(old.endReason) !== "timeout") {
                violations.push(`[4] user ${u}'s idle session ${previous.id} is ${old.status}/${Option.getOrElse(old.endReason, () => "-")}, expected ended/timeout`)
              }
            }
          }
          seen.add(sessionId)
          model.set(u, { id: sessionId, lastActivity: now })
        }
        break
      }
    }
    for (let u = 0; u < schedule.users; u++) yield* checkOneActive(u, `after step ${index}`)
  }

  // Final state: exactly the model's sessions are active.
  for (let u = 0; u < schedule.users; u++) {
    const active = activeSessions(yield* store.listByUser(userId(u)))
    const expected = model.get(u)?.id
    if (active.length > 1) violations.push(`[1] final: user ${u} has ${active.length} active sessions`)
    else if (active[0]?.id !== expected) violations.push(`[1] final: user ${u} active session is ${active[0]?.id ?? "none"}, expected ${expected ?? "none"}`)
  }
  return violations
}, Effect.provideService(SessionPolicy, policy))
