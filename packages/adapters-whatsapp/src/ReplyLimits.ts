import type { Reply } from "@parley/core"
import { Result, Schema } from "effect"

/**
 * WhatsApp's limits on what we send (Cloud API reference; Twilio enforces the
 * same on WhatsApp). `fitReply` applies them before anything is sent:
 *
 * - **truncated** (with "…"): button titles (20), list button label (20), row
 *   titles (24), row descriptions (72), section titles (24), header and
 *   footer (60), the body of an interactive message (1024);
 * - **split**: a text body over 4096 characters becomes several messages, cut
 *   at the last line break (else space) before the limit;
 * - **rejected** with `InvalidReply`: an empty body, no buttons or more than 3,
 *   no rows or more than 10 (in at most 10 sections), an empty, duplicate or
 *   too long id (256 for buttons, 200 for rows) — those change meaning if cut.
 */
export const limits = {
  textBody: 4096,
  interactiveBody: 1024,
  headerText: 60,
  footerText: 60,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  sections: 10,
  rows: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24
} as const

export class InvalidReply extends Schema.TaggedError<InvalidReply>()("InvalidReply", {
  reason: Schema.String
}) {}

const chars = (s: string) => [...s]

/** Cuts to `max` characters (code points, so no emoji is split), ending with "…" when cut. */
export const truncate = (s: string, max: number): string => {
  const c = chars(s)
  return c.length <= max ? s : c.slice(0, max - 1).join("") + "…"
}

const split = (body: string, max: number): Array<string> => {
  const parts: Array<string> = []
  let rest = chars(body)
  while (rest.length > max) {
    const window = rest.slice(0, max).join("")
    const cut = Math.max(window.lastIndexOf("\n"), window.lastIndexOf(" "))
    const at = cut > max / 2 ? chars(window.slice(0, cut)).length : max
    parts.push(rest.slice(0, at).join("").trimEnd())
    rest = chars(rest.slice(at).join("").trimStart())
  }
  parts.push(rest.join(""))
  return parts
}

const ids = (values: ReadonlyArray<string>, max: number, what: string): InvalidReply | undefined => {
  if (values.some((id) => id === "" || chars(id).length > max)) return new InvalidReply({ reason: `${what} ids must be 1 to ${max} characters` })
  if (new Set(values).size !== values.length) return new InvalidReply({ reason: `${what} ids must be unique` })
  return undefined
}

const extras = (r: { readonly header?: string; readonly footer?: string }) => ({
  ...(r.header === undefined ? {} : { header: truncate(r.header, limits.headerText) }),
  ...(r.footer === undefined ? {} : { footer: truncate(r.footer, limits.footerText) })
})

export const fitReply = (reply: Reply): Result.Result<ReadonlyArray<Reply>, InvalidReply> => {
  if (reply.body.trim() === "") return Result.fail(new InvalidReply({ reason: "the body is empty" }))
  switch (reply._tag) {
    case "TextReply":
      return Result.succeed(split(reply.body, limits.textBody).map((body) => ({ _tag: "TextReply", body })))
    case "ButtonsReply": {
      if (reply.buttons.length < 1 || reply.buttons.length > limits.buttons) {
        return Result.fail(new InvalidReply({ reason: `reply buttons: 1 to ${limits.buttons}, got ${reply.buttons.length}` }))
      }
      const bad = ids(reply.buttons.map((b) => b.id), limits.buttonId, "button")
      if (bad) return Result.fail(bad)
      if (reply.buttons.some((b) => b.title.trim() === "")) return Result.fail(new InvalidReply({ reason: "a button has no title" }))
      return Result.succeed([{
        _tag: "ButtonsReply",
        body: truncate(reply.body, limits.interactiveBody),
        buttons: reply.buttons.map((b) => ({ id: b.id, title: truncate(b.title, limits.buttonTitle) })),
        ...extras(reply)
      }])
    }
    case "ListReplyMessage": {
      const rows = reply.sections.flatMap((s) => s.rows)
      if (reply.sections.length < 1 || reply.sections.length > limits.sections) {
        return Result.fail(new InvalidReply({ reason: `list sections: 1 to ${limits.sections}, got ${reply.sections.length}` }))
      }
      if (rows.length < 1 || rows.length > limits.rows) return Result.fail(new InvalidReply({ reason: `list rows: 1 to ${limits.rows}, got ${rows.length}` }))
      if (reply.sections.some((s) => s.rows.length === 0)) return Result.fail(new InvalidReply({ reason: "a list section has no rows" }))
      const bad = ids(rows.map((r) => r.id), limits.rowId, "row")
      if (bad) return Result.fail(bad)
      if (reply.button.trim() === "" || rows.some((r) => r.title.trim() === "")) {
        return Result.fail(new InvalidReply({ reason: "the list button and every row need a label" }))
      }
      return Result.succeed([{
        _tag: "ListReplyMessage",
        body: truncate(reply.body, limits.interactiveBody),
        button: truncate(reply.button, limits.listButton),
        sections: reply.sections.map((s) => ({
          title: truncate(s.title, limits.sectionTitle),
          rows: s.rows.map((r) => ({
            id: r.id,
            title: truncate(r.title, limits.rowTitle),
            ...(r.description === undefined ? {} : { description: truncate(r.description, limits.rowDescription) })
          }))
        })),
        ...extras(reply)
      }])
    }
  }
}

/** True when a reply is within every limit (what `fitReply` guarantees of its output). */
export const withinLimits = (reply: Reply): boolean => {
  const len = (s: string) => chars(s).length
  const common = len(reply.body) > 0 &&
    (!("header" in reply) || reply.header === undefined || len(reply.header) <= limits.headerText) &&
    (!("footer" in reply) || reply.footer === undefined || len(reply.footer) <= limits.footerText)
  switch (reply._tag) {
    case "TextReply":
      return common && len(reply.body) <= limits.textBody
    case "ButtonsReply":
      return common && len(reply.body) <= limits.interactiveBody && reply.buttons.length >= 1 && reply.buttons.length <= limits.buttons &&
        reply.buttons.every((b) => len(b.title) <= limits.buttonTitle && len(b.id) >= 1 && len(b.id) <= limits.buttonId) &&
        new Set(reply.buttons.map((b) => b.id)).size === reply.buttons.length
    case "ListReplyMessage": {
      const rows = reply.sections.flatMap((s) => s.rows)
      return common && len(reply.body) <= limits.interactiveBody && len(reply.button) <= limits.listButton &&
        reply.sections.length >= 1 && reply.sections.length <= limits.sections && rows.length >= 1 && rows.length <= limits.rows &&
        reply.sections.every((s) => len(s.title) <= limits.sectionTitle) &&
        rows.every((r) => len(r.title) <= limits.rowTitle && (r.description === undefined || len(r.description) <= limits.rowDescription) && len(r.id) >= 1 && len(r.id) <= limits.rowId) &&
        new Set(rows.map((r) => r.id)).size === rows.length
    }
  }
}
