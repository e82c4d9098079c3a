// npm run bench:scale — does a message cost more on a big database?
//
// The message path's SQL (accept, claim, resolve the session, load its
// context, commit the turn, claim and mark the reply) for the same users on an
// empty database and after loading 100,000 users, 200,000 sessions and
// 1,000,000 messages: Postgres time and WAL bytes per message, each on the
// loaded database ÷ the empty one (goal ≤ 1.2×). A CHECKPOINT before each
// measurement makes both pay full-page images the same way. Then the
// operators' reads at that size: doctor's checks and the scrape's gauges
// (goal: each under 100 ms).
//
// Environment: DATABASE_URL (else an embedded Postgres), BENCH_MESSAGES
// (messages timed per measurement, default 2000: enough to amortise the first
// write of each page after the checkpoint), BENCH_SCALE (1 = the sizes above;
// 0.1 for a quick run).
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { loadavg } from "node:os"
import { performance } from "node:perf_hooks"
import { messagingSql } from "../src/MessagingSql.ts"
import { getOrCreateSessionWithRecentSql } from "../src/PgSessionStore.ts"
import { makeMigrator } from "../src/Migrations.ts"
import { sessionHealth } from "../src/SessionHealth.ts"
import { withBenchDatabase } from "./benchDatabase.ts"

const messagesTimed = Number(process.env["BENCH_MESSAGES"] ?? 2000)
const scale = Number(process.env["BENCH_SCALE"] ?? 1)
const users = Math.round(100_000 * scale)
const sessions = Math.round(200_000 * scale)
const messages = Math.round(1_000_000 * scale)
const measured = 50 // users that exist in both measurements


/** The measured users: subcontractors with a phone in their own range. */
const seedMeasured = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  yield* sql`INSERT INTO subcontractors (id, phone, display_name)
             SELECT gen_random_uuid(), '+3369' || lpad(g::text, 7, '0'), 'Measured ' || g FROM generate_series(1, ${measured}) g
             ON CONFLICT DO NOTHING`
  return yield* sql<{ id: string; phone: string }>`SELECT id::text AS id, phone FROM subcontractors WHERE phone LIKE '+3369%' ORDER BY phone`
})

/** One message through the path's statements; returns the wall time of its statements, in milliseconds. */
const oneMessage = (user: { readonly id: string; readonly phone: string }, n: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const statements = messagingSql(sql)
    const started = performance.now()
    const now = new Date()
    const id = `wamid.scale.${n}.${Math.random()}`
    yield* statements.acceptInbox([{ provider: "meta", provider_message_id: id, sender: user.phone, payload: { body: "Bonjour" } }], now)
    const [claim] = yield* statements.claimInbox(new Date(), new Date(Date.now() + 60_000))
    if (claim === undefined) return yield* Effect.die(new Error("nothing to claim"))
    const [session] = yield* sql.unsafe<{ s_id: string }>(getOrCreateSessionWithRecentSql, [user.id, "30 minutes", new Date(), 20])
    const at = new Date()
    const [committed] = yield* statements.commitTurn({
      id: claim.id,
      token: claim.lease_token,
      at,
      now: at,
      leaseUntil: new Date(at.getTime() + 30_000),
      sessionId: session!.s_id,
      escalate: false,
      messages: [
        { session_id: session!.s_id, subcontractor_id: user.id, direction: "inbound", content: "Bonjour", provider_message_id: id, metadata: { intent: "greeting" }, created_at: at },
        { session_id: session!.s_id, subcontractor_id: user.id, direction: "outbound", content: "Que voulez-vous faire ?", provider_message_id: null, metadata: { reply: { _tag: "TextReply", body: "menu" } }, created_at: at }
      ],
      replies: [{ reply_id: `meta:${id}:0`, recipient: user.phone, session_id: session!.s_id, payload: { _tag: "TextReply", body: "menu" } }]
    })
    // The reply is leased to the committing worker, which sends it without a claim (else the sender claims it).
    const leased = committed?.leased_reply_id ?? null
    const due = leased === null ? yield* statements.claimOutbox(new Date(), 1, new Date(Date.now() + 30_000)) : [{ reply_id: leased }]
    for (const row of due) yield* statements.markSent(row.reply_id, `wamid.out.${row.reply_id}`, new Date())
    return performance.now() - started
  })

/** Postgres time and WAL per message for the measured users, after a checkpoint. */
const measure = (people: ReadonlyArray<{ readonly id: string; readonly phone: string }>) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    for (let i = 0; i < 50; i++) yield* oneMessage(people[i % people.length]!, -i) // warm
    yield* sql`CHECKPOINT`
    const [before] = yield* sql<{ lsn: string }>`SELECT pg_current_wal_insert_lsn()::text AS lsn`
    const times: Array<number> = []
    for (let i = 0; i < messagesTimed; i++) times.push(yield* oneMessage(people[i % people.length]!, i))
    const [wal] = yield* sql<{ bytes: string }>`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${before!.lsn}::pg_lsn)::bigint::text AS bytes`
    times.sort((a, b) => a - b)
    return { p50: times[Math.floor(times.length / 2)]!, mean: times.reduce((a, b) => a + b, 0) / times.length, walPerMessage: Number(wal!.bytes) / messagesTimed }
  })

const load = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const started = performance.now()
  yield* sql`INSERT INTO subcontractors (id, phone, display_name)
             SELECT gen_random_uuid(), '+3361' || lpad(g::text, 7, '0'), 'User ' || g FROM generate_series(1, ${users}) g`
  // Two sessions per user: an ended one and an active one (the newest).
  yield* sql`INSERT INTO conversation_sessions (subcontractor_id, status, created_at, last_message_at, ended_at, end_reason)
             SELECT s.id, CASE WHEN k = 1 THEN 'ended' ELSE 'active' END,
                    now() - (k * interval '1 day') - (random() * interval '1 day'), now() - ((k - 1) * interval '1 day'),
                    CASE WHEN k = 1 THEN now() - interval '1 day' END, CASE WHEN k = 1 THEN 'timeout' END
             FROM subcontractors s CROSS JOIN generate_series(1, ${Math.max(1, Math.round(sessions / users))}) k
             WHERE s.phone LIKE '+3361%'`
  yield* sql`INSERT INTO messages (session_id, subcontractor_id, direction, content, metadata, created_at)
             SELECT cs.id, cs.subcontractor_id, CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'message ' || g,
                    '{"intent":"greeting"}'::jsonb, cs.created_at + g * interval '1 second'
             FROM conversation_sessions cs
             CROSS JOIN generate_series(1, ${Math.max(1, Math.round(messages / sessions))}) g`
  yield* sql`VACUUM ANALYZE`
  const [counts] = yield* sql<{ users: number; sessions: number; messages: number }>`
    SELECT (SELECT count(*) FROM subcontractors)::int AS users, (SELECT count(*) FROM conversation_sessions)::int AS sessions,
           (SELECT count(*) FROM messages)::int AS messages`
  return { ...counts!, seconds: (performance.now() - started) / 1000 }
})

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    yield* effect // warm
    const started = performance.now()
    yield* effect
    return performance.now() - started
  })

const program = Effect.gen(function*() {
  yield* (yield* makeMigrator()).up()
  const people = yield* seedMeasured
  const empty = yield* measure(people)
  const loaded = yield* load
  const big = yield* measure(people)
  const health = yield* sessionHealth
  const reads: Array<[string, number]> = [
    ["doctor: unique index present", yield* timed(health.uniqueIndexPresent)],
    ["doctor: users with two active sessions (the seed's query)", yield* timed(health.duplicateActiveSessions)],
    ["doctor: sessions created per hour", yield* timed(health.sessionsPerHour)],
    ["doctor: recent sessions with message counts", yield* timed(health.recentSessions(10))],
    ["scrape: users with two active sessions", yield* timed(health.usersWithDuplicateActiveSessions)],
    ["scrape: most sessions per user in the last minute", yield* timed(health.maxSessionsPerUserLastMinute)]
  ]
  const f = (x: number, d = 2) => x.toFixed(d)
  console.log([
    `bench:scale — ${messagesTimed} messages per measurement, load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}`,
    `loaded ${loaded.users} users, ${loaded.sessions} sessions, ${loaded.messages} messages in ${f(loaded.seconds, 1)} s`,
    "",
    "| database | SQL ms per message, p50 (wall time of its statements) | mean | WAL bytes per message |",
    "| --- | ---: | ---: | ---: |",
    `| empty | ${f(empty.p50)} | ${f(empty.mean)} | ${f(empty.walPerMessage, 0)} |`,
    `| loaded | ${f(big.p50)} | ${f(big.mean)} | ${f(big.walPerMessage, 0)} |`,
    `| loaded ÷ empty | ${f(big.p50 / empty.p50)}× | ${f(big.mean / empty.mean)}× | ${f(big.walPerMessage / empty.walPerMessage)}× |`,
    "",
    "| read at that size | ms |",
    "| --- | ---: |",
    ...reads.map(([label, ms]) => `| ${label} | ${f(ms)} |`)
  ].join("\n"))
})

withBenchDatabase("parley_scale", (url) =>
  Effect.runPromise(program.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })))))
  .then(() => process.exit(0), (e) => {
    console.error(e)
    process.exit(1)
  })
