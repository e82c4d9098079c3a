import { PgClient } from "@effect/sql-pg"
import { demoSubcontractors } from "@parley/worksite"
import { seedDemo } from "@parley/worksite/pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { graphError, metaWebhookPayload, startFakeGraphApi, type FakeGraphApi } from "@parley/adapters-whatsapp/testing"
import { Effect, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { metaClient, metaEnv, queryOn, seedManualTest, text } from "./support/MetaClient.ts"
import { eventually, startServer, type RunningServer } from "./support/ServerProcess.ts"

const appSecret = "e2e-app-secret"
const adminToken = "e2e-admin-token"
const [karim, sarah, lucie] = demoSubcontractors as unknown as [typeof demoSubcontractors[0], typeof demoSubcontractors[0], typeof demoSubcontractors[0]]

let graph: FakeGraphApi
let server: RunningServer
let db: Awaited<ReturnType<typeof createScratchDatabase>>

const query = queryOn(() => db.url)
const client = metaClient(() => server.url, () => graph, appSecret, "e2e")
const { post, sign, deliver, sentTo, waitForReplies } = client

beforeAll(async () => {
  graph = await startFakeGraphApi()
  db = await createScratchDatabase()
  server = await startServer({
    DATABASE_URL: db.url,
    ...metaEnv(graph, appSecret),
    ADMIN_TOKEN: adminToken,
    WORKER_COUNT: "4"
  })
  await Effect.runPromise(seedDemo().pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))))
}, 90_000)

afterAll(async () => {
  await server?.stop()
  await graph?.close()
  await db?.drop()
}, 60_000)

describe("the server end to end: signed webhooks in, replies out through the (fake) Graph API", () => {
  it("the seed's manual test: Bonjour → View Sites → Champigny → tasks, all in one active session", async () => {
    await seedManualTest(client, karim.phone)

    const sessions = await query<{ session_id: string; status: string; n: number }>(
      `SELECT m.session_id::text AS session_id, s.status, count(*)::int AS n FROM messages m
       JOIN conversation_sessions s ON s.id = m.session_id WHERE m.subcontractor_id = $1::uuid GROUP BY 1, 2`, [karim.id])
    assert.deepStrictEqual(sessions.map((s) => [s.status, s.n]), [["active", 6]], "all 6 messages in ONE active session")
  })

  it("50 concurrent webhooks from one user: one active session, 50 inbound and 50 outbound messages", async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => deliver(lucie.phone, text(i % 2 === 0 ? "Bonjour" : "menu"))))
    assert.deepStrictEqual([...new Set(responses.map((r) => r.status))], [200])
    await waitForReplies(lucie.phone, 50)
    const rows = await query<{ status: string; direction: string; n: number }>(
      `SELECT s.status, m.direction, count(*)::int AS n FROM messages m JOIN conversation_sessions s ON s.id = m.session_id
       WHERE m.subcontractor_id = $1::uuid GROUP BY 1, 2 ORDER BY 2`, [lucie.id])
    assert.deepStrictEqual(rows.map((r) => [r.status, r.direction, r.n]), [["active", "inbound", 50], ["active", "outbound", 50]])
    const active = await query<{ n: number }>(`SELECT count(*)::int AS n FROM conversation_sessions WHERE subcontractor_id = $1::uuid AND status = 'active'`, [lucie.id])
    assert.strictEqual(active[0]!.n, 1)
  })

  it("each webhook delivered twice: no duplicate reply", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `wamid.twice.${i}`)
    const responses = await Promise.all(ids.flatMap((id) => [deliver(sarah.phone, text("hello"), id), deliver(sarah.phone, text("hello"), id)]))
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ accepted: number; duplicates: number }>))
    assert.strictEqual(bodies.reduce((a, b) => a + b.accepted, 0), 10)
    assert.strictEqual(bodies.reduce((a, b) => a + b.duplicates, 0), 10)
    await waitForReplies(sarah.phone, 10)
    await new Promise((r) => setTimeout(r, 1000))
    assert.strictEqual(sentTo(sarah.phone).length, 10, "exactly one reply per message")
  })

  it("a delivery with one unreadable item: the readable message is accepted and answered, the other skipped", async () => {
    const payload = metaWebhookPayload({ from: sarah.phone, id: "wamid.mixed.good", message: text("menu") })
    const messages = payload.entry[0]!.changes[0]!.value.messages
    messages.push({ ...messages[0]!, from: "not-a-phone", id: "wamid.mixed.bad" })
    const body = JSON.stringify(payload)
    const before = sentTo(sarah.phone).length
    const response = await post(body, { "x-hub-signature-256": sign(body) })
    assert.strictEqual(response.status, 200)
    assert.deepInclude(await response.json(), { accepted: 1, skipped: 1 })
    await waitForReplies(sarah.phone, before + 1)
  })

  it("the metrics endpoint exposes the pipeline's metrics in Prometheus format", async () => {
    const body = await (await fetch(`${server.url}/metrics`)).text()
    for (const metric of ["parley_session_resolutions_total", "parley_direct_actions_total", "parley_context_messages_bucket", "parley_inbox_total", "parley_outbox_total", "parley_stage_seconds_bucket"]) {
      assert.include(body, metric)
    }
    assert.match(body, /parley_direct_actions_total\{tool="list_projects_tool",result="hit"\} [1-9]/)
    // The seed's taps carried their list's session (Meta's context.id → the reply's session).
    assert.match(body, /parley_session_resolutions_total\{outcome="carried"\} [1-9]/)
    assert.match(body, /parley_inbox_total\{event="duplicate"\} (\d+)/)
  })

  it("every metric the alert rules read is exposed, the database gauges included", async () => {
    const body = await (await fetch(`${server.url}/metrics`)).text()
    const rules = readFileSync(new URL("../prometheus/alerts.yml", import.meta.url), "utf8").replace(/^\s*#.*$/gm, "")
    const referenced = new Set(rules.match(/\bparley_[a-z0-9_]+/g))
    assert.isAtLeast(referenced.size, 8)
    for (const metric of referenced) assert.match(body, new RegExp(`^${metric}[{ ]`, "m"), `${metric} is exposed`)
    // Lucie got 50 messages in one session, Karim and Sarah one session each: nobody churns.
    assert.match(body, /^parley_db_sessions_created_per_user_1m_max 1$/m)
    assert.match(body, /^parley_db_users_with_duplicate_active_sessions 0$/m)
    assert.match(body, /^parley_db_unique_active_session_index_present 1$/m)
    assert.match(body, /^parley_unique_violations_total\{constraint="idx_unique_active_session_per_user"\} 0$/m)
  })

  it("admin API: sessions of a user with message counts, behind the bearer token", async () => {
    const path = `${server.url}/admin/users/${encodeURIComponent(karim.phone)}/sessions`
    assert.strictEqual((await fetch(path)).status, 401)
    assert.strictEqual((await fetch(path, { headers: { authorization: "Bearer nope" } })).status, 403)
    const ok = await fetch(path, { headers: { authorization: `Bearer ${adminToken}` } })
    assert.strictEqual(ok.status, 200)
    const json = await ok.json() as { user: { phone: string }; sessions: Array<{ status: string; message_count: number }> }
    assert.strictEqual(json.user.phone, "+33•••••••78", "phones are masked")
    assert.deepStrictEqual(json.sessions.map((s) => [s.status, s.message_count]), [["active", 6]])
    const dead = await fetch(`${server.url}/admin/inbox/dead`, { headers: { authorization: `Bearer ${adminToken}` } })
    assert.deepStrictEqual(await dead.json(), { dead: [] })
  })
})

describe("admin API: dead replies and malformed ids", () => {
  const auth = { authorization: `Bearer ${adminToken}` }

  it("a malformed id is a 400 and an unknown one a 404, both with a JSON body", async () => {
    for (const [path, status, code] of [
      ["/admin/inbox/dead/abc/retry", 400, "bad_id"],
      ["/admin/inbox/dead/99999999/retry", 404, "not_dead"],
      ["/admin/outbox/dead/abc/retry", 400, "bad_id"],
      [`/admin/outbox/dead/${encodeURIComponent("meta:wamid.nope:0")}/retry`, 404, "not_dead"]
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method: "POST", headers: auth })
      assert.strictEqual(response.status, status, path)
      assert.strictEqual(((await response.json()) as { error: { code: string } }).error.code, code, path)
    }
  })

  it("a reply the Graph API refused for good is listed (phone masked), and a retry sends it", async () => {
    const listDead = async () => ((await (await fetch(`${server.url}/admin/outbox/dead`, { headers: auth })).json()) as {
      dead: Array<{ id: string; to: string; attempts: number; error: string }>
    }).dead
    assert.deepStrictEqual(await listDead(), [])
    graph.failNext(graphError(400, 131026, "Message undeliverable"))
    const before = sentTo(karim.phone).length
    await deliver(karim.phone, text("menu"), "wamid.e2e.deadreply")
    const dead = await eventually(async () => {
      const list = await listDead()
      return list.length > 0 ? list : undefined
    }, "a dead reply")
    assert.deepStrictEqual(dead.map((d) => [d.id, d.to, d.attempts]), [["meta:wamid.e2e.deadreply:0", "+33•••••••78", 1]])
    assert.match(dead[0]!.error, /^invalid_recipient: /)
    const retried = await fetch(`${server.url}/admin/outbox/dead/${encodeURIComponent("meta:wamid.e2e.deadreply:0")}/retry`, { method: "POST", headers: auth })
    assert.deepStrictEqual(await retried.json(), { retried: true })
    await waitForReplies(karim.phone, before + 1)
    assert.deepStrictEqual(await listDead(), [])
  })
})

describe("bad input gets the right 4xx, a JSON error, and changes nothing", () => {
  const inboxCount = async () => (await query<{ n: number }>("SELECT count(*)::int AS n FROM inbox"))[0]!.n

  it.each([
    { name: "wrong method", status: 405, code: "method_not_allowed", request: () => post("{}", {}, "PUT") },
    { name: "wrong content type", status: 415, code: "unsupported_media_type", request: () => post("{}", { "content-type": "text/plain" }) },
    {
      name: "oversized body",
      status: 413,
      code: "payload_too_large",
      request: () => { const big = "x".repeat(3 * 1024 * 1024 + 1); return post(big, { "x-hub-signature-256": sign(big) }) }
    },
    {
      name: "oversized chunked body (no content-length)",
      status: 413,
      code: "payload_too_large",
      request: () => {
        const chunk = new TextEncoder().encode("x".repeat(64 * 1024))
        let sent = 0
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => (sent++ < 50 ? controller.enqueue(chunk) : controller.close())
        })
        return fetch(`${server.url}/webhooks/whatsapp`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hub-signature-256": sign("") },
          body,
          duplex: "half"
        } as RequestInit)
      }
    },
    {
      name: "missing signature",
      status: 401,
      code: "bad_signature",
      request: () => post(JSON.stringify(metaWebhookPayload({ from: karim.phone, id: "wamid.bad1", message: text("hi") })))
    },
    { name: "wrong signature", status: 401, code: "bad_signature", request: () => post("{}", { "x-hub-signature-256": `sha256=${"0".repeat(64)}` }) },
    {
      name: "undecodable payload",
      status: 400,
      code: "undecodable_payload",
      request: () => { const b = '{"object":"page"}'; return post(b, { "x-hub-signature-256": sign(b) }) }
    },
    {
      name: "verification with a wrong token",
      status: 403,
      code: "verification_failed",
      request: () => fetch(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=42`)
    },
    { name: "Twilio when it is not configured", status: 404, code: "not_configured", request: () => fetch(`${server.url}/webhooks/twilio`, { method: "POST" }) }
  ])("$name → $status $code", async ({ request, status, code }) => {
    const before = await inboxCount()
    const response = await request()
    assert.strictEqual(response.status, status)
    assert.strictEqual(((await response.json()) as { error: { code: string } }).error.code, code)
    assert.strictEqual(await inboxCount(), before, "nothing stored")
  })

  it("the verification handshake echoes the challenge", async () => {
    const r = await fetch(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=1158201444`)
    assert.strictEqual(r.status, 200)
    assert.strictEqual(await r.text(), "1158201444")
  })
})

describe("inputs Postgres would refuse: cleaned or skipped, never a 503 loop", () => {
  it("a NUL or a lone surrogate in a text or a profile name, and an 8,006-character id: 200, the rest of the delivery stored", async () => {
    const payload = metaWebhookPayload({ from: sarah.phone, id: "wamid.poison.nul", profileName: "Sa\u0000rah \ud83d", message: text("a\u0000b") })
    const messages: Array<Record<string, unknown>> = payload.entry[0]!.changes[0]!.value.messages
    const first = messages[0]!
    messages.push(
      { ...first, id: "wamid.poison.surrogate", text: { body: "x\udc00y\ud800" } },
      { ...first, id: `wamid.${"9".repeat(8000)}`, text: { body: "absurd id" } },
      { ...first, id: "wamid.poison.normal", text: { body: "menu" } }
    )
    const body = JSON.stringify(payload)
    const response = await post(body, { "x-hub-signature-256": sign(body) })
    assert.strictEqual(response.status, 200, await response.clone().text())
    assert.deepInclude(await response.json(), { accepted: 3, skipped: 1 })
    const stored = await query<{ id: string; body: string; name: string | null }>(
      `SELECT provider_message_id AS id, payload->'content'->>'body' AS body, payload->>'profileName' AS name FROM inbox
       WHERE provider_message_id LIKE 'wamid.poison.%' ORDER BY id`)
    assert.deepStrictEqual(stored.map((r) => [r.id, r.body, r.name]), [
      ["wamid.poison.normal", "menu", "Sarah \ufffd"],
      ["wamid.poison.nul", "ab", "Sarah \ufffd"],
      ["wamid.poison.surrogate", "x\ufffdy\ufffd", "Sarah \ufffd"]
    ])
    // Redelivered: every item is now a duplicate or the same skip, still 200.
    const again = await post(body, { "x-hub-signature-256": sign(body) })
    assert.deepInclude(await again.json(), { accepted: 0, duplicates: 3, skipped: 1 })
    assert.match(server.output(), /"event":"webhook.skipped"[^\n]*"reason":"the message id is \d+ characters long/)
  })
})

describe("WhatsApp as it is today (fixtures from Meta's webhook reference, see packages/adapters-whatsapp/README.md)", () => {
  const metaFixture = (name: string) => readFileSync(new URL(`../../adapters-whatsapp/test/fixtures/${name}.json`, import.meta.url), "utf8")
  const postSigned = (body: string) => post(body, { "x-hub-signature-256": sign(body) })
  const metric = async (pattern: RegExp) => Number(pattern.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? "NaN")

  it("an errors webhook: 200, nothing stored, each code logged and counted", async () => {
    const before = await metric(/^parley_provider_errors_total\{[^}]*code="130429"[^}]*\} (\d+)$/m)
    const response = await postSigned(metaFixture("meta-errors"))
    assert.strictEqual(response.status, 200)
    assert.deepInclude(await response.json(), { accepted: 0, errors: 2 })
    assert.strictEqual(await metric(/^parley_provider_errors_total\{[^}]*code="130429"[^}]*\} (\d+)$/m), before + 1)
    assert.strictEqual(await metric(/^parley_provider_errors_total\{[^}]*code="131000"[^}]*\} (\d+)$/m), 1)
    assert.include(server.output(), `"event":"webhook.provider_error"`)
  })

  it("statuses without recipient_id are read; a failed one is counted by its code", async () => {
    const response = await postSigned(metaFixture("meta-bsuid-statuses"))
    assert.deepInclude(await response.json(), { statuses: 3, skipped: 0 })
    assert.strictEqual(await metric(/^parley_delivery_failures_total\{[^}]*code="131026"[^}]*\} (\d+)$/m), 1)
  })

  it("a username user: the BSUID learnt with the number, then known by it alone (answered at the number); a 👍 on the reply is stored, not answered; a stranger's BSUID is answered there", async () => {
    const withPhone = metaFixture("meta-bsuid-with-phone").replace("wamid.bsuid0", "wamid.e2e.bsuid0")
    const toPhone = sentTo(karim.phone).length
    assert.strictEqual((await postSigned(withPhone)).status, 200)
    await waitForReplies(karim.phone, toPhone + 1)
    const before = graph.sent().length
    assert.strictEqual((await postSigned(metaFixture("meta-bsuid-text").replace("wamid.bsuid1", "wamid.e2e.bsuid1"))).status, 200)
    const toBsuid = await eventually(() => graph.sent().slice(before).find((m) => m.payload["to"] === "33612345678"), "a reply to Karim's number")
    assert.isUndefined(toBsuid.payload["recipient"], "a known user is answered at their number, as Meta recommends")

    const reaction = metaFixture("meta-reaction").replace(/wamid\.ourReply/g, toBsuid.wamid).replace(/wamid\.react/g, "wamid.e2e.react")
    const response = await postSigned(reaction)
    assert.deepInclude(await response.json(), { accepted: 2 })
    await eventually(async () => {
      const rows = await query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE provider_message_id LIKE 'wamid.e2e.react%'`)
      return rows[0]!.n === 2 ? true : undefined
    }, "both reactions stored")
    await new Promise((r) => setTimeout(r, 500))
    assert.strictEqual(graph.sent().length, before + 1, "no reply to a reaction or its removal")
    const sessions = await query<{ n: number }>(
      `SELECT count(DISTINCT session_id)::int AS n FROM messages WHERE provider_message_id IN ('wamid.e2e.bsuid0', 'wamid.e2e.bsuid1', 'wamid.e2e.react1', 'wamid.e2e.react2')`
    )
    assert.strictEqual(sessions[0]!.n, 1, "one conversation, whichever id each message came with")

    const stranger = metaFixture("meta-bsuid-text").replace(/FR\.13491208655302741918/g, "US.424242").replace("wamid.bsuid1", "wamid.e2e.stranger")
    assert.strictEqual((await postSigned(stranger)).status, 200)
    const refusal = await eventually(() => graph.sent().find((m) => m.payload["recipient"] === "US.424242"), "the refusal at the stranger's BSUID")
    assert.isUndefined(refusal.payload["to"], "a BSUID goes in recipient, alone")
  })

  it("a signed delivery over the old 256 KiB limit (1,000 statuses, as Meta batches them) is accepted", async () => {
    const statuses = Array.from({ length: 1000 }, (_, i) => ({
      id: `wamid.batch.${i}`,
      status: "read",
      timestamp: "1775000000",
      recipient_id: "33612345678",
      biz_opaque_callback_data: "x".repeat(700)
    }))
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", statuses } }] }] })
    assert.isAbove(body.length, 512 * 1024)
    const response = await postSigned(body)
    assert.strictEqual(response.status, 200)
    assert.deepInclude(await response.json(), { statuses: 1000 })
  })
})

describe("logs", () => {
  it("no log line carries a full phone number, even for a phone in the admin API's path", async () => {
    await fetch(`${server.url}/admin/users/${encodeURIComponent(karim.phone)}/sessions`, { headers: { authorization: `Bearer ${adminToken}` } })
    const output = server.output()
    assert.include(output, `"http.url":"/admin/users/+33•••••••78/sessions"`)
    for (const phone of [karim.phone, sarah.phone, lucie.phone]) {
      const digits = phone.slice(1)
      assert.notInclude(output, digits, `${phone} appears in the logs`)
    }
    assert.notInclude(output, appSecret)
    assert.notInclude(output, adminToken)
  })
})

describe("graceful shutdown", () => {
  it("SIGTERM: the server stops accepting, closes its pool and exits 0", async () => {
    const connections = () =>
      query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert.isAbove((await connections())[0]!.n, 0, "the running server holds connections")
    // A provider's kept-alive connections, busy: a stopping instance must not keep answering on them.
    const agent = new Agent({ keepAlive: true, maxSockets: 4 })
    const handshake = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=7`, { agent }, (res) => {
          res.resume()
          res.on("end", () => resolve(res.statusCode ?? 0))
        })
        req.on("error", reject)
        req.end()
      })
    let stopping = false
    let answeredWhileStopping = 0
    const busy = async () => {
      // Back to back until refused, for at most 3 s after SIGTERM: each connection is never idle for long.
      const until = () => stoppingSince + 3_000
      while (!stopping || Date.now() < until()) {
        const status = await handshake().catch(() => undefined)
        if (status === undefined) return
        if (stopping) answeredWhileStopping++
      }
    }
    let stoppingSince = Number.POSITIVE_INFINITY
    const clients = Array.from({ length: 4 }, busy)
    await new Promise((r) => setTimeout(r, 300))
    const stopped = server.stop()
    stopping = true
    stoppingSince = Date.now()
    await Promise.all(clients)
    agent.destroy()
    assert.strictEqual(await stopped, 0)
    assert.isAbove(answeredWhileStopping, 0, "the clients were busy when the signal came")
    const lines = server.output().split("\n")
    const draining = lines.findIndex((l) => l.includes(`"event":"server.draining"`))
    assert.isAbove(draining, 0, "the instance says it stops taking requests")
    const answeredAfter = lines.slice(draining).filter((l) => l.includes(`"http.url":"/webhooks/whatsapp"`)).length
    assert.isAtMost(answeredAfter, 4, "once draining, at most the request under way on each of the 4 connections is answered")
    assert.isTrue(lines.at(-2)?.includes(`"event":"server.stopped"`), "server.stopped is the last line")
    const afterStop = await fetch(`${server.url}/healthz`).then(() => "answered", (e: unknown) => e)
    assert.instanceOf(afterStop, TypeError, "nothing listens any more")
    assert.strictEqual((await connections())[0]!.n, 0, "the pool is closed")
  })
})
