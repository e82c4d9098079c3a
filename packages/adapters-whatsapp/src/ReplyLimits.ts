import type { ListSection, Reply, ReplyButton } from "@parley/core"
import { Result, Schema } from "effect"
import { twilioBody } from "./TwilioBody.ts"

/**
 * What a provider accepts in one message, in characters (Unicode code points).
 * `fitReply` applies them before anything is sent, so a reply is never sent
 * only to be refused.
 */
export interface ReplyLimits {
  readonly provider: "meta" | "twilio"
  /**
   * How buttons and lists reach the user: as Cloud API interactive messages,
   * or rendered by `twilioBody` as numbered text that must fit `textBody`.
   */
  readonly interactive: "native" | "numbered_text"
  /** A text message; a longer one is split into several. */
  readonly textBody: number
  readonly interactiveBody: number
  readonly headerText: number
  readonly footerText: number
  readonly buttons: number
  readonly buttonTitle: number
  readonly buttonId: number
  readonly listButton: number
  readonly sections: number
  /** Rows of a list, all sections together. */
  readonly rows: number
  readonly rowTitle: number
  readonly rowDescription: number
  readonly rowId: number
  readonly sectionTitle: number
}

/** Meta's Cloud API reference for text and interactive (reply button, list) messages. */
export const cloudApiLimits: ReplyLimits = {
  provider: "meta",
  interactive: "native",
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
}

/**
 * Twilio's Messages API refuses a `Body` over 1600 characters (error 21617).
 * Buttons and lists go out as numbered text (see `twilioBody`): the whole
 * rendered text is held to 1600, so the body gets the room the options leave.
 * The Cloud API's rules on buttons, rows and titles still apply, so a reply
 * the assistant writes behaves the same on both providers.
 */
export const twilioLimits: ReplyLimits = {
  ...cloudApiLimits,
  provider: "twilio",
  interactive: "numbered_text",
  textBody: 1600,
  interactiveBody: 1600
}

export class InvalidReply extends Schema.TaggedError<InvalidReply>()("InvalidReply", {
  reason: Schema.String
}) {}

const chars = (s: string) => [...s]
const length = (s: string) => chars(s).length
const blank = (s: string) => s.trim() === ""

/** Cuts to `max` characters (code points, so no emoji is split), ending with "…" when cut. */
export const truncate = (s: string, max: number): string => {
  const c = chars(s)
  return c.length <= max ? s : c.slice(0, max - 1).join("") + "…"
}

/** Cuts to `max` characters keeping both ends around a "…": "Réseau éle…que lot A". */
export const truncateMiddle = (s: string, max: number): string => {
  const c = chars(s)
  if (c.length <= max) return s
  const head = Math.ceil((max - 1) / 2)
  const tail = max - 1 - head
  return c.slice(0, head).join("") + "…" + (tail > 0 ? c.slice(-tail).join("") : "")
}

/** Cuts a text into parts of at most `max` characters, at the last line break (else space) in the second half of each window. */
const split = (body: string, max: number): Array<string> => {
  const parts: Array<string> = []
  let rest = chars(body)
  while (rest.length > max) {
    const window = rest.slice(0, max).join("")
    const cut = Math.max(window.lastIndexOf("\n"), window.lastIndexOf(" "))
    const at = cut > max / 2 ? length(window.slice(0, cut)) : max
    parts.push(rest.slice(0, at).join("").trimEnd())
    rest = chars(rest.slice(at).join("").trimStart())
  }
  parts.push(rest.join(""))
  // A stretch of nothing but whitespace would be an empty message, which the providers refuse.
  return parts.filter((p) => !blank(p))
}

const invalid = (reason: string) => Result.fail(new InvalidReply({ reason }))

const badIds = (values: ReadonlyArray<string>, max: number, what: string): InvalidReply | undefined => {
  if (values.some((id) => id === "" || length(id) > max)) return new InvalidReply({ reason: `${what} ids must be 1 to ${max} characters` })
  if (new Set(values).size !== values.length) return new InvalidReply({ reason: `${what} ids must be unique` })
  return undefined
}

// Titles are compared as a user reads them: spaces around and case do not tell two buttons apart.
const sameTitle = (s: string) => s.trim().toLowerCase()

/**
 * The Cloud API refuses two reply buttons with the same title, and cutting
 * to `max` can make two titles equal ("Réseau électrique lot A" and "… lot
 * B"). Titles that collide once cut are cut in the middle instead, keeping
 * their ends ("Réseau éle…que lot A"); titles equal to begin with, or still
 * equal after that, are refused.
 */
const fitButtonTitles = (titles: ReadonlyArray<string>, max: number): Result.Result<ReadonlyArray<string>, InvalidReply> => {
  if (new Set(titles.map(sameTitle)).size !== titles.length) return invalid("button titles must be unique")
  const cut = titles.map((t) => truncate(t, max))
  const collides = (c: string) => cut.filter((other) => sameTitle(other) === sameTitle(c)).length > 1
  const fitted = cut.map((c, i) => (collides(c) ? truncateMiddle(titles[i]!, max) : c))
  if (new Set(fitted.map(sameTitle)).size !== fitted.length) {
    return invalid(`button titles must stay unique once cut to ${max} characters`)
  }
  return Result.succeed(fitted)
}

/** Header and footer: cut to their limits; a blank one is left out (the Cloud API refuses an empty text). */
const extras = (r: { readonly header?: string; readonly footer?: string }, limits: ReplyLimits) => ({
  ...(r.header === undefined || blank(r.header) ? {} : { header: truncate(r.header, limits.headerText) }),
  ...(r.footer === undefined || blank(r.footer) ? {} : { footer: truncate(r.footer, limits.footerText) })
})

/**
 * The body of an interactive reply: within `interactiveBody`, and for numbered
 * text within what `textBody` leaves once the rest is rendered (header, options,
 * footer are bounded by their own limits, so hundreds of characters remain).
 */
const fitBody = <R extends Reply>(reply: R, limits: ReplyLimits): Result.Result<R, InvalidReply> => {
  if (limits.interactive === "native") return Result.succeed({ ...reply, body: truncate(reply.body, limits.interactiveBody) })
  const room = Math.min(limits.interactiveBody, limits.textBody - length(twilioBody({ ...reply, body: "" })))
  return room < 1
    ? invalid(`the options alone take more than ${limits.textBody} characters`)
    : Result.succeed({ ...reply, body: truncate(reply.body, room) })
}

const fitButtons = (
  reply: Extract<Reply, { _tag: "ButtonsReply" }>,
  limits: ReplyLimits
): Result.Result<Extract<Reply, { _tag: "ButtonsReply" }>, InvalidReply> => {
  if (reply.buttons.length < 1 || reply.buttons.length > limits.buttons) {
    return invalid(`reply buttons: 1 to ${limits.buttons}, got ${reply.buttons.length}`)
  }
  const bad = badIds(reply.buttons.map((b) => b.id), limits.buttonId, "button")
  if (bad) return Result.fail(bad)
  if (reply.buttons.some((b) => blank(b.title))) return invalid("a button has no title")
  const titles = fitButtonTitles(reply.buttons.map((b) => b.title), limits.buttonTitle)
  if (Result.isFailure(titles)) return Result.fail(titles.failure)
  const buttons: Array<ReplyButton> = reply.buttons.map((b, i) => ({ id: b.id, title: titles.success[i]! }))
  return fitBody({ _tag: "ButtonsReply", body: reply.body, buttons, ...extras(reply, limits) }, limits)
}

const fitList = (
  reply: Extract<Reply, { _tag: "ListReplyMessage" }>,
  limits: ReplyLimits
): Result.Result<Extract<Reply, { _tag: "ListReplyMessage" }>, InvalidReply> => {
  const rows = reply.sections.flatMap((s) => s.rows)
  if (reply.sections.length < 1 || reply.sections.length > limits.sections) {
    return invalid(`list sections: 1 to ${limits.sections}, got ${reply.sections.length}`)
  }
  if (rows.length < 1 || rows.length > limits.rows) return invalid(`list rows: 1 to ${limits.rows}, got ${rows.length}`)
  if (reply.sections.some((s) => s.rows.length === 0)) return invalid("a list section has no rows")
  // The Cloud API needs a title on every section as soon as there are two.
  if (reply.sections.length > 1 && reply.sections.some((s) => blank(s.title))) return invalid("every section of a list with several sections needs a title")
  const bad = badIds(rows.map((r) => r.id), limits.rowId, "row")
  if (bad) return Result.fail(bad)
  if (blank(reply.button) || rows.some((r) => blank(r.title))) return invalid("the list button and every row need a label")
  const sections: Array<ListSection> = reply.sections.map((s) => ({
    title: truncate(s.title, limits.sectionTitle),
    rows: s.rows.map((r) => ({
      id: r.id,
      title: truncate(r.title, limits.rowTitle),
      ...(r.description === undefined || blank(r.description) ? {} : { description: truncate(r.description, limits.rowDescription) })
    }))
  }))
  return fitBody(
    { _tag: "ListReplyMessage", body: reply.body, button: truncate(reply.button, limits.listButton), sections, ...extras(reply, limits) },
    limits
  )
}

/**
 * Fits a reply to a provider's limits by documented rules — truncated with
 * "…": titles, labels, descriptions, header, footer, interactive body; split:
 * a long text; refused with `InvalidReply`: whatever would change meaning if
 * cut or guessed (empty body, counts out of range, empty/duplicate/over-long
 * ids, duplicate button titles, untitled sections of a multi-section list).
 */
export const fitReply = (reply: Reply, limits: ReplyLimits): Result.Result<ReadonlyArray<Reply>, InvalidReply> => {
  if (blank(reply.body)) return invalid("the body is empty")
  switch (reply._tag) {
    case "TextReply":
      return Result.succeed(split(reply.body, limits.textBody).map((body) => ({ _tag: "TextReply", body })))
    case "ButtonsReply":
      return Result.map(fitButtons(reply, limits), (fitted) => [fitted])
    case "ListReplyMessage":
      return Result.map(fitList(reply, limits), (fitted) => [fitted])
  }
}
