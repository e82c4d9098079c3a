import { maskPhone } from "@parley/core"
import { Schema } from "effect"
import { WebhookProvider } from "./WebhookErrors.ts"

/**
 * Part of a genuine, signed delivery that could not be read (a sender that is
 * no phone number, a timestamp that is no Unix time, a status we do not know…).
 * It is reported instead of failing the delivery: a 400 would make Meta
 * redeliver the whole batch for days, holding up every other user's messages in it.
 */
export class SkippedItem extends Schema.Class<SkippedItem>("@parley/adapters-whatsapp/SkippedItem")({
  provider: WebhookProvider,
  item: Schema.Literals(["entry", "change", "message", "status", "media", "error"]),
  /** The provider's id of the item, when it had a readable one. */
  id: Schema.optionalKey(Schema.String),
  reason: Schema.String
}) {}

// Both come from the sender: bounded so a hostile payload cannot blow up a log line.
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max)}…`)
// A schema's message quotes the value it refused, which may be a phone number: logs never carry a full one.
const masked = (s: string) => s.replace(/\+?\d{7,}/g, maskPhone)

export const skipped = (provider: WebhookProvider, item: SkippedItem["item"], reason: string, id?: unknown): SkippedItem =>
  new SkippedItem({
    provider,
    item,
    reason: clip(masked(reason), 300),
    ...(typeof id === "string" && id !== "" ? { id: clip(id, 200) } : {})
  })
