// The chaos suite (`npm run test:chaos`): three real server processes on one
// embedded Postgres that the test stops and starts, a fake Graph API that fails
// and hangs, bounded load with bursts and redeliveries (signed Cloud API
// webhooks), and one fault per phase. After each phase the delivery guarantees
// are checked on the database and at the fake Graph API, and the figures are
// printed (and copied into the README's "Delivery guarantees" section).
import { PgClient } from "@effect/sql-pg"
import { defaultLeases, defaultSenderOptions, PhoneNumber } from "@parley/core"
import { makeMigrator, splitStatements } from "@parley/adapters-pg"
import { freePort, type RunningPostgres, startEmbeddedPostgres } from "@parley/adapters-pg/embedded"
import { metaWebhookPayload, postMetaWebhook, startFakeGraphApi, type FakeGraphApi, type GraphFaults } from "@parley/adapters-whatsapp/testing"
import { Duration, Effect, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { Agent } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, type RunningServer } from "../test/support/ServerProcess.ts"

const appSecret = "chaos-app-secret"
const instanceCount = 3
const userCount = 24
/** Messages per user and phase: 192 a phase, some in bursts of 5 sent at once to different instances. */
const perUser = 8
/** Every n-th acknowledged message is delivered again, to another instance (a provider redelivery). */
const redeliverEvery = 6
/**
 * "Nothing stuck": every acknowledged message processed and every reply sent within this time once the load
 * and the fault are over. A message or reply the killed instance held waits for its lease (the outbox's, 30 s,
 * is the longest) before another instance takes it over: the lease and 10 s.
 */
const drainBoundMs = Duration.toMillis(defaultLeases.outbox) + 10_000
/** How long a phase waits for the system to settle before it gives up measuring. */
const settleTimeoutMs = 120_000
/** "Wake-ups back within seconds": an idle user's reply after the phase. */
const wakeUpBoundMs = 3_000
const texts = ["Bonjour", "menu", "chantiers"]
/** Sends in flight at once per instance: the outbox sender's default concurrency. */
const senderConcurrency = defaultSenderOptions.concurrency
const phones = Array.from({ length: userCount }, (_, i) => PhoneNumber.make(`+3362${String(i + 1).padStart(7, "0")}`))
/** Users who only send the wake-up probes: their queues are idle when probed. */
const probePhones = Array.from({ length: instanceCount }, (_, i) => PhoneNumber.make(`+3363${String(i + 1).padStart(7, "0")}`))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// --- Postgres: embedded, persistent and on a fixed port, so the test can restart it under the servers.
let dir: string
let pgPort: number
let postgres: RunningPostgres | undefined
let dbUrl: string
const startPostgres = async () => (postgres = await startEmbeddedPostgres({ dir, persistent: true, port: pgPort }))

/** One short-lived connection per query: the checks must work across restarts and backend kills. */
const query = <A extends object>(text: string, params: ReadonlyArray<unknown> = [], url = dbUrl) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return (yield* sql.unsafe<A>(text, params)) as ReadonlyArray<A>
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))))
const count = async (text: string) => (await query<{ n: number }>(text))[0]!.n

/**
 * Every lease grant on the inbox, recorded by a trigger in the same
 * transaction as the claim: who held which message of which sender, from when
 * until it was retired, released, failed, taken over, or until its lease ran out.
 */
const auditSql = `
  CREATE TABLE chaos_leases (
    token uuid PRIMARY KEY, inbox_id bigint NOT NULL, sender text NOT NULL,
    granted_at timestamptz NOT NULL, lease_until timestamptz, ended_at timestamptz, outcome text);
  CREATE FUNCTION chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF OLD.lease_token IS NOT NULL AND OLD.lease_token IS DISTINCT FROM NEW.lease_token THEN
      UPDATE chaos_leases SET ended_at = clock_timestamp(), outcome = NEW.state WHERE token = OLD.lease_token AND ended_at IS NULL;
    END IF;
    IF NEW.lease_token IS NOT NULL AND NEW.lease_token IS DISTINCT FROM OLD.lease_token THEN
      INSERT INTO chaos_leases VALUES (NEW.lease_token, NEW.id, NEW.sender, clock_timestamp(), NEW.lease_until, NULL, NULL);
    ELSIF NEW.lease_token IS NOT NULL AND NEW.lease_until IS DISTINCT FROM OLD.lease_until THEN
      UPDATE chaos_leases SET lease_until = NEW.lease_until WHERE token = NEW.lease_token;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER chaos_audit AFTER UPDATE ON inbox FOR EACH ROW EXECUTE FUNCTION chaos_audit();`

// --- The servers and the fake Graph API.
let graph: FakeGraphApi
const servers: Array<RunningServer | undefined> = []
const agents: Array<Agent> = []
const serverEnv = () => ({
  DATABASE_URL: dbUrl,
  DATABASE_POOL_SIZE: "8",
  META_APP_SECRET: appSecret,
  META_VERIFY_TOKEN: "chaos-verify",
  META_ACCESS_TOKEN: "chaos-access",
  META_PHONE_NUMBER_ID: "106540352242922",
  META_GRAPH_URL: graph.graphUrl,
  ADMIN_TOKEN: "chaos-admin",
  WORKER_COUNT: "4"
})
const startInstance = async (i: number) => {
  agents[i]?.destroy()
  // Kept-alive connections, as Meta's delivery infrastructure keeps them.
  agents[i] = new Agent({ keepAlive: true, maxSockets: 16 })
  servers[i] = await startServer(serverEnv())
}
const alive = () => servers.flatMap((s, i) => (s !== undefined && s.process.exitCode === null && s.process.signalCode === null ? [i] : []))
const exited = (s: RunningServer, timeoutMs: number) =>
  new Promise<number | null | "timeout">((resolve) => {
    if (s.process.exitCode !== null || s.process.signalCode !== null) return resolve(s.process.exitCode)
    const timer = setTimeout(() => resolve("timeout"), timeoutMs)
    s.process.once("exit", (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })

// --- Load: signed webhooks, retried like a provider until acknowledged.
const acked = new Map<string, PhoneNumber>()
const load = { posts: 0, refused: 0, networkErrors: 0, redeliveries: 0, redeliveriesAccepted: 0 }
let roundRobin = 0

const post = (i: number, body: Buffer, signature: string) =>
  postMetaWebhook({ agent: agents[i]!, url: new URL("/webhooks/whatsapp", servers[i]!.url), body, signature, timeoutMillis: 10_000 })

/** Posts one delivery until an instance answers 200 (a provider retries a 5xx or a refused connection for days). */
const deliver = async (from: PhoneNumber, id: string, text: string, deadline = Date.now() + 180_000) => {
  const body = Buffer.from(JSON.stringify(metaWebhookPayload({ from, id, message: { type: "text", text: { body: text } } })))
  const signature = `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`
  while (Date.now() < deadline) {
    const live = alive()
    const i = live[roundRobin++ % Math.max(live.length, 1)]
    if (i !== undefined) {
      load.posts++
      try {
        const res = await post(i, body, signature)
        if (res.status === 200) {
          const result = JSON.parse(res.text) as { accepted: number; duplicates: number }
          if (result.accepted + result.duplicates === 1) {
            acked.set(id, from)
            return result
          }
        }
        load.refused++
      } catch {
        load.networkErrors++
      }
    }
    await sleep(250 + Math.random() * 250)
  }
  return undefined
}

/** Every user sends `perUser` messages, some in bursts of 5 at once (to different instances); some deliveries are redelivered. */
const runLoad = (phase: string) =>
  Promise.all(phones.map(async (phone, u) => {
    let k = 0
    while (k < perUser) {
      const burst = (u + k) % 3 === 0 ? Math.min(5, perUser - k) : 1
      const ids = Array.from({ length: burst }, (_, j) => `wamid.chaos.${phase}.${u}.${k + j}`)
      k += burst
      await Promise.all(ids.map((id, j) => deliver(phone, id, texts[(u + k + j) % texts.length]!)))
      for (const id of ids) {
        if (acked.has(id) && (u * perUser + k) % redeliverEvery === 0) {
          load.redeliveries++
          const again = await deliver(phone, id, "redelivered")
          if (again?.accepted === 1) load.redeliveriesAccepted++
        }
      }
      await sleep(50 + Math.random() * 100)
    }
  }))

// --- What the checks read.
const graphSendsByRecipient = () => {
  const by = new Map<string, number>()
  for (const m of graph.sent()) by.set(`+${String(m.payload["to"])}`, (by.get(`+${String(m.payload["to"])}`) ?? 0) + 1)
  return by
}
const replyCounts = async () => {
  const sent = new Map((await query<{ recipient: string; n: number }>(
    "SELECT recipient, count(*)::int AS n FROM outbox WHERE state = 'sent' GROUP BY 1")).map((r) => [r.recipient, r.n]))
  let duplicates = 0
  let missing = 0
  for (const [recipient, n] of graphSendsByRecipient()) duplicates += Math.max(0, n - (sent.get(recipient) ?? 0))
  for (const [recipient, n] of sent) missing += Math.max(0, n - (graphSendsByRecipient().get(recipient) ?? 0))
  return { duplicates, missing }
}
const unsettled = async () => {
  const [row] = await query<{ inbox: number; outbox: number }>(
    `SELECT (SELECT count(*)::int FROM inbox WHERE state = 'pending') AS inbox,
            (SELECT count(*)::int FROM outbox WHERE state = 'pending') AS outbox`)
  return row!.inbox + row!.outbox
}
/** Polls until nothing is pending in the inbox or the outbox; the time it took, or undefined. */
const settle = async (since: number) => {
  const deadline = since + settleTimeoutMs
  while (Date.now() < deadline) {
    const left = await unsettled().catch(() => -1)
    if (left === 0) return Date.now() - since
    await sleep(250)
  }
  return undefined
}
const overlaps = () =>
  count(`SELECT count(*)::int AS n FROM (
           SELECT granted_at, max(coalesce(ended_at, lease_until)) OVER (
             PARTITION BY sender ORDER BY granted_at ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS held_until
           FROM chaos_leases) x
         WHERE granted_at < held_until`)
const orderViolations = () =>
  count(`SELECT count(*)::int AS n FROM (
           SELECT i.id, lag(i.id) OVER (PARTITION BY i.sender ORDER BY m.seq) AS before
           FROM inbox i JOIN messages m ON m.provider_message_id = i.provider_message_id AND m.direction = 'inbound') x
         WHERE before > id`)
const listenGauges = async (i: number) => {
  const body = await fetch(`${servers[i]!.url}/metrics`).then((r) => r.text(), () => "")
  return [...body.matchAll(/^parley_listen_connected(?:\{[^}]*\})? (\S+)$/gm)].map((m) => Number(m[1]))
}

/** An idle user writes to each live instance in turn: how long until the reply reaches the Graph API. */
const probeWakeUps = async (phase: string) => {
  const latencies: Array<number> = []
  for (const [n, i] of alive().entries()) {
    const phone = probePhones[n]!
    const before = graph.sent().filter((m) => m.payload["to"] === phone.slice(1)).length
    const body = Buffer.from(JSON.stringify(metaWebhookPayload({ from: phone, id: `wamid.chaos.probe.${phase}.${n}`, message: { type: "text", text: { body: "menu" } } })))
    const t0 = Date.now()
    const res = await post(i, body, `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`).catch(() => undefined)
    if (res?.status !== 200) {
      latencies.push(Number.POSITIVE_INFINITY)
      continue
    }
    acked.set(`wamid.chaos.probe.${phase}.${n}`, phone)
    while (graph.sent().filter((m) => m.payload["to"] === phone.slice(1)).length === before && Date.now() - t0 < 15_000) await sleep(20)
    latencies.push(Date.now() - t0)
  }
  return latencies
}

interface Figures {
  readonly phase: string
  readonly acknowledged: number
  readonly retriedPosts: number
  readonly recoveryMs: number | undefined
  readonly drainMs: number | undefined
  readonly duplicates: number
  readonly allowedDuplicates: number
  readonly overlaps: number
  readonly orderViolations: number
  readonly wakeUpMs: number
  readonly note: string
}
const figures: Array<Figures> = []
let previous = { duplicates: 0, overlaps: 0, orderViolations: 0 }

/**
 * One phase: load, the fault once a third of it is acknowledged, then the
 * checks. `expect.soft` so a phase reports every guarantee that broke, not
 * only the first.
 */
const phase = async (
  name: string,
  fault: () => Promise<string | void>,
  options: {
    readonly afterCheck?: () => Promise<void>
    /** Ends a fault that lasts (the Graph API misbehaving), once the load is over: recovery is measured from there. */
    readonly heal?: () => Promise<void>
    /**
     * Copies fenced at-least-once delivery allows: a send whose outcome could not be recorded
     * (its process killed, or the database gone, between the provider's answer and markSent),
     * at most one per send in flight then. Zero where no such window opens.
     */
    readonly allowedDuplicates?: number
  } = {}
) => {
  const { afterCheck = async () => {}, heal, allowedDuplicates = 0 } = options
  const ackedBefore = acked.size
  const postsBefore = load.posts
  const running = runLoad(name.replace(/\W+/g, "_"))
  while (acked.size - ackedBefore < (userCount * perUser) / 3) await sleep(50)
  const note = (await fault()) ?? ""
  let faultEnd = Date.now()
  await running
  if (heal !== undefined) {
    await heal()
    faultEnd = Date.now()
  }
  // The drain counts from when both the load and the fault are over.
  const quietSince = Date.now()
  const drainMs = await settle(quietSince)
  const recoveryMs = drainMs === undefined ? undefined : quietSince + drainMs - faultEnd

  const ids = [...acked.keys()]
  const stored = new Set((await query<{ id: string }>("SELECT provider_message_id AS id FROM inbox")).map((r) => r.id))
  const notStored = ids.filter((id) => !stored.has(id))
  const processedTwice = await count(
    "SELECT count(*)::int AS n FROM (SELECT provider_message_id FROM messages WHERE direction = 'inbound' GROUP BY 1 HAVING count(*) > 1) x")
  const doneUnprocessed = await count(
    `SELECT count(*)::int AS n FROM inbox i WHERE state = 'done' AND NOT EXISTS (
       SELECT 1 FROM messages m WHERE m.provider_message_id = i.provider_message_id AND m.direction = 'inbound')`)
  const notDone = await count("SELECT count(*)::int AS n FROM inbox WHERE state <> 'done'")
  const repliesNotSent = await count("SELECT count(*)::int AS n FROM outbox WHERE state <> 'sent'")
  const twoActive = await count(
    "SELECT count(*)::int AS n FROM (SELECT subcontractor_id FROM conversation_sessions WHERE status = 'active' GROUP BY 1 HAVING count(*) > 1) x")
  const replies = await replyCounts()
  const now = { duplicates: replies.duplicates, overlaps: await overlaps(), orderViolations: await orderViolations() }
  const delta = { duplicates: now.duplicates - previous.duplicates, overlaps: now.overlaps - previous.overlaps, orderViolations: now.orderViolations - previous.orderViolations }
  previous = now

  // Wake-ups: each live instance listens again within 10 s, and an idle user's reply comes back within seconds.
  let gauges: Array<Array<number>> = []
  const listenDeadline = Date.now() + 10_000
  do {
    gauges = await Promise.all(alive().map(listenGauges))
    if (gauges.every((g) => g.length > 0 && g.every((v) => v === 1))) break
    await sleep(250)
  } while (Date.now() < listenDeadline)
  const wakeUps = await probeWakeUps(name.replace(/\W+/g, "_"))
  await settle(Date.now())

  figures.push({
    phase: name,
    acknowledged: acked.size - ackedBefore,
    retriedPosts: load.posts - postsBefore - (acked.size - ackedBefore),
    recoveryMs,
    drainMs,
    duplicates: delta.duplicates,
    allowedDuplicates,
    overlaps: delta.overlaps,
    orderViolations: delta.orderViolations,
    wakeUpMs: Math.max(...wakeUps),
    note
  })

  expect.soft(notStored, "every acknowledged message is stored").toEqual([])
  expect.soft(processedTwice, "no message processed twice").toBe(0)
  expect.soft(doneUnprocessed, "every done inbox row was processed").toBe(0)
  expect.soft(notDone, "every inbox row done (none pending, none dead)").toBe(0)
  expect.soft(repliesNotSent, "every reply sent (none pending, none dead)").toBe(0)
  expect.soft(replies.missing, "every reply marked sent reached the Graph API").toBe(0)
  expect.soft(delta.duplicates, `replies delivered twice to the Graph API (at most ${allowedDuplicates} here)`).toBeLessThanOrEqual(allowedDuplicates)
  expect.soft(delta.overlaps, "lease grants overlapping another of the same sender (two messages of a user in flight)").toBe(0)
  expect.soft(delta.orderViolations, "messages of a user processed out of order").toBe(0)
  expect.soft(twoActive, "users with two active sessions").toBe(0)
  expect.soft(drainMs, `settled within ${settleTimeoutMs / 1000} s`).toBeDefined()
  expect.soft(drainMs ?? Number.POSITIVE_INFINITY, `nothing stuck: drained within ${drainBoundMs / 1000} s once the load and the fault were over`).toBeLessThanOrEqual(drainBoundMs)
  expect.soft(gauges.map((g) => g.length > 0 && g.every((v) => v === 1)), "parley_listen_connected is 1 on every live instance").toEqual(gauges.map(() => true))
  expect.soft(Math.max(...wakeUps), `an idle user's reply within ${wakeUpBoundMs / 1000} s`).toBeLessThanOrEqual(wakeUpBoundMs)
  await afterCheck()
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-chaos-"))
  pgPort = await freePort()
  await startPostgres()
  await query("CREATE DATABASE chaos", [], postgres!.url)
  const url = new URL(postgres!.url)
  url.pathname = "/chaos"
  dbUrl = url.toString()
  await Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* (yield* makeMigrator()).up()
    yield* sql`INSERT INTO subcontractors ${sql.insert([...phones, ...probePhones].map((phone): Record<string, unknown> => ({ phone, display_name: `Chaos ${phone.slice(-3)}` })) as [Record<string, unknown>, ...Array<Record<string, unknown>>])}`
    for (const statement of splitStatements(auditSql)) yield* sql.unsafe(statement)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(dbUrl), maxConnections: 1 }))))
  graph = await startFakeGraphApi()
  for (let i = 0; i < instanceCount; i++) await startInstance(i)
}, 180_000)

afterAll(async () => {
  for (const s of servers) s?.process.kill("SIGKILL")
  for (const a of agents) a.destroy()
  await graph?.close()
  await postgres?.stop().catch(() => {})
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  const f = (ms: number | undefined) => (ms === undefined ? `> ${settleTimeoutMs / 1000} s` : `${(ms / 1000).toFixed(1)} s`)
  console.log([
    "",
    "| Phase | Acknowledged | Retried posts | Settled after the fault | Drained after load and fault | Duplicate replies (allowed) | Two in flight | Out of order | Idle reply after | Note |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...figures.map((p) =>
      `| ${p.phase} | ${p.acknowledged} | ${p.retriedPosts} | ${f(p.recoveryMs)} | ${f(p.drainMs)} | ${p.duplicates} (≤ ${p.allowedDuplicates}) | ${p.overlaps} | ${p.orderViolations} | ${Number.isFinite(p.wakeUpMs) ? f(p.wakeUpMs) : "no answer"} | ${p.note} |`),
    "",
    `Load: ${load.posts} posts, ${load.refused} refused (non-200), ${load.networkErrors} network errors, ${load.redeliveries} redeliveries (${load.redeliveriesAccepted} accepted as new).`,
    `Graph API faults: ${JSON.stringify(graph?.faultStats())}.`
  ].join("\n"))
}, 60_000)

describe("chaos: three instances, one Postgres, faults under load", () => {
  it("no fault (baseline)", () => phase("no fault", async () => {}))

  it("kill -9 of an instance", () =>
    phase("kill -9 of an instance", async () => {
      servers[0]!.process.kill("SIGKILL")
      await exited(servers[0]!, 10_000)
    }, { afterCheck: () => startInstance(0), allowedDuplicates: senderConcurrency }))

  it("pg_terminate_backend of every parley connection", () =>
    phase("pg_terminate_backend of every connection", async () => {
      const [row] = await query<{ n: number }>(
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = 'chaos' AND pid <> pg_backend_pid()")
      return `${row!.n} backends killed`
    }, { allowedDuplicates: senderConcurrency * instanceCount }))

  it("Postgres restart (5 s down)", () =>
    phase("Postgres restart", async () => {
      await postgres!.stop()
      await sleep(5_000)
      await startPostgres()
    }, { allowedDuplicates: senderConcurrency * instanceCount }))

  it("Graph API: for 10 s every 4th send answers 500 and 6 sends hang 35 s", () => {
    let since = 0
    return phase("Graph API 500s and hangs (10 s)", async () => {
      since = Date.now()
      graph.setFaults({ failEvery: 4, hang: { count: 6, millis: 35_000 } } satisfies GraphFaults)
    }, {
      heal: async () => {
        await sleep(since + 10_000 - Date.now())
        graph.setFaults({})
      }
    })
  })

  it("SIGTERM of an instance under load", () => {
    let exitCode: number | null | "timeout" = null
    return phase("SIGTERM of an instance", async () => {
      const s = servers[1]!
      const t0 = Date.now()
      s.process.kill("SIGTERM")
      exitCode = await exited(s, 30_000)
      return `exit ${exitCode} after ${((Date.now() - t0) / 1000).toFixed(1)} s`
    }, {
      afterCheck: async () => {
        expect.soft(exitCode, "the instance exits 0 on SIGTERM").toBe(0)
        await startInstance(1)
      }
    })
  })
})
