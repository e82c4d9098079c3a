// The baseline of `npm run bench:e2e`: the statements the pipeline issues for
// one message, in the pipeline's order, from a plain loop — no HTTP, no
// webhook decoding, no workers or wake-ups, no Graph API call, no logging.
// The message path's statements are the adapter's own (`messagingSql`, the
// session with its context); the few single-line reads (PgDirectory,
// PgWorksite) are copied, so both sides pay for the same plans; keep those in step.
import { PgClient } from "@effect/sql-pg"
import { getOrCreateSessionWithRecentSql, messagingSql } from "@parley/adapters-pg"
import { Effect } from "effect"

const lease = 60_000
const outboxLease = 30_000
const idleTimeout = `${30 * 60 * 1000} milliseconds`
const contextSize = 20

/** Texts whose reply needs the projects query (the classifier's view_sites words). */
export const listsProjects = (text: string) => text === "chantiers"

// Replies of the same shape and size as the assistant's menu and project list.
const menuReply = {
  _tag: "ButtonsReply",
  body: "Bonjour Bench ! Que voulez-vous faire ?",
  buttons: [
    { id: "menu_view_sites", title: "Voir mes chantiers" },
    { id: "menu_report_problem", title: "Signaler un problème" },
    { id: "menu_talk", title: "Parler à quelqu'un" }
  ]
}
const listReply = (projects: ReadonlyArray<{ id: string; name: string; address: string | null }>) => {
  const rows = projects.map((p, i) => ({ id: `option_${i + 1}`, title: p.name, description: p.address ?? undefined }))
  return {
    reply: { _tag: "ListReplyMessage", body: `Vous avez ${projects.length} chantiers.`, button: "Voir", sections: [{ title: "Voir mes chantiers", rows }] },
    toolOutput: {
      tool: "list_projects_tool",
      options: Object.fromEntries(projects.map((p, i) => [`option_${i + 1}`, { kind: "project", id: p.id, label: p.name }]))
    }
  }
}

interface InboxRow {
  readonly id: string
  readonly payload: { readonly from: string; readonly providerMessageId: string; readonly content: { readonly body?: string } }
  readonly lease_token: string
}

const at = (millis: number) => new Date(millis)

/**
 * One message through the pipeline's statements: accept (insert + notify),
 * claim, identify, resolve the session with its context, the tool's query
 * when the text asks for projects, complete (one statement, leasing the reply
 * to the caller when it is its recipient's next), mark the reply sent (a
 * reply not leased is claimed first, as the sender would). Returns how many
 * replies were marked sent (0 when the claim found nothing, e.g. the only
 * candidate was another sender's later message).
 */
export const oneMessage = (phone: string, providerMessageId: string, text: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const acceptedAt = Date.now()
    const inbound = { provider: "meta", providerMessageId, from: phone, profileName: "Demo", sentAt: acceptedAt, content: { _tag: "Text", body: text } }
    const statements = messagingSql(sql)
    yield* statements.acceptInbox([{ provider: "meta", provider_message_id: providerMessageId, sender: phone, payload: inbound }], at(acceptedAt))

    const now = Date.now()
    const claimed = yield* statements.claimInbox(at(now), at(now + lease))
    const entry = claimed[0] as InboxRow | undefined
    if (entry === undefined) return 0
    const body = entry.payload.content.body ?? ""

    const [user] = yield* sql<{ id: string }>`SELECT id::text AS id, phone, display_name, locale FROM subcontractors WHERE phone = ${entry.payload.from}`
    if (user === undefined) return yield* Effect.die(new Error(`bench user ${entry.payload.from} is not seeded`))
    const [session] = yield* sql.unsafe<{ s_id: string }>(getOrCreateSessionWithRecentSql, [user.id, idleTimeout, new Date(), contextSize])
    const tool = listsProjects(body)
      ? listReply(yield* sql<{ id: string; name: string; address: string | null }>`SELECT p.id::text AS id, p.name, p.address FROM projects p
          JOIN project_assignments a ON a.project_id = p.id
          WHERE a.subcontractor_id = ${user.id}::uuid ORDER BY p.name`)
      : { reply: menuReply, toolOutput: undefined }

    const turnAt = Date.now()
    const replyId = `meta:${entry.payload.providerMessageId}:0`
    const [committed] = yield* statements.commitTurn({
      id: entry.id,
      token: entry.lease_token,
      at: at(turnAt),
      now: at(turnAt),
      leaseUntil: at(turnAt + outboxLease),
      sessionId: session!.s_id,
      escalate: false,
      messages: [
        {
          session_id: session!.s_id,
          subcontractor_id: user.id,
          direction: "inbound",
          content: body,
          provider_message_id: entry.payload.providerMessageId,
          metadata: { intent: listsProjects(body) ? "view_sites" : "greeting" },
          created_at: at(turnAt)
        },
        {
          session_id: session!.s_id,
          subcontractor_id: user.id,
          direction: "outbound",
          content: tool.reply.body,
          provider_message_id: null,
          metadata: tool.toolOutput === undefined ? { reply: tool.reply } : { reply: tool.reply, toolOutputs: [tool.toolOutput] },
          created_at: at(turnAt + 1)
        }
      ],
      replies: [{ reply_id: replyId, recipient: entry.payload.from, session_id: session!.s_id, payload: tool.reply }]
    })
    if (committed?.committed !== true) return yield* Effect.die(new Error("lease lost in the SQL-only loop"))

    if (committed.leased_reply_id !== null) {
      yield* statements.markSent(committed.leased_reply_id, `wamid.sqlonly.${committed.leased_reply_id}`, at(Date.now()))
      return 1
    }
    // Not leased (an earlier reply of the recipient was pending): the sender
    // claims in batches of up to 20; this claims what is due now, this reply
    // or one of the other loops'.
    const sendNow = Date.now()
    const due = yield* statements.claimOutbox(at(sendNow), 1, at(sendNow + outboxLease))
    for (const row of due) yield* statements.markSent(row.reply_id, `wamid.sqlonly.${row.reply_id}`, at(Date.now()))
    return due.length
  })

/**
 * `concurrency` loops issuing `oneMessage` back to back for `seconds`, users
 * round robin. The rate counts replies marked sent, the same event the e2e
 * side counts at the fake Graph API.
 */
export const sqlOnlyRate = (options: {
  readonly concurrency: number
  readonly seconds: number
  readonly phones: ReadonlyArray<string>
  readonly texts: ReadonlyArray<string>
  readonly idPrefix: string
}) =>
  Effect.gen(function*() {
    let next = 0
    let sent = 0
    const started = performance.now()
    const deadline = started + options.seconds * 1000
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        const i = next++
        const replies = yield* oneMessage(
          options.phones[i % options.phones.length]!,
          `${options.idPrefix}.${i}`,
          options.texts[i % options.texts.length]!
        )
        // Not `sent += yield* …`: that reads `sent` before the loop suspends and loses the other loops' counts.
        sent += replies
      }
    })
    yield* Effect.all(Array.from({ length: options.concurrency }, () => loop), { concurrency: "unbounded", discard: true })
    const seconds = (performance.now() - started) / 1000
    return { sent, seconds, rate: sent / seconds }
  })
