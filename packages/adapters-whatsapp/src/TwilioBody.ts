import type { Reply } from "@parley/core"

/**
 * Without a Content template, WhatsApp interactive messages cannot be sent
 * through Twilio's Messages API as free-form messages, so buttons and lists
 * degrade to numbered text options. The assistant understands "2" and the
 * option's label typed back, so the conversation still works. `fitReply` with
 * `twilioLimits` keeps this text within Twilio's 1600-character `Body`.
 */
export const twilioBody = (reply: Reply): string => {
  switch (reply._tag) {
    case "TextReply":
      return reply.body
    case "ButtonsReply":
      return [reply.header, reply.body, "", ...reply.buttons.map((b, i) => `${i + 1}. ${b.title}`), reply.footer].filter((l) => l !== undefined).join("\n")
    case "ListReplyMessage":
      return [
        reply.header,
        reply.body,
        "",
        ...reply.sections.flatMap((s) => s.rows).map((r, i) => `${i + 1}. ${r.title}${r.description ? ` — ${r.description}` : ""}`),
        reply.footer
      ].filter((l) => l !== undefined).join("\n")
  }
}
