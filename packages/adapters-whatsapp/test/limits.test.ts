import { assert, describe, it } from "@effect/vitest"
import type { Reply } from "@parley/core"
import { fitReply, normalizePhone, truncate, withinLimits } from "@parley/adapters-whatsapp"
import { Option, Result } from "effect"
import * as fc from "fast-check"

const text = (max: number) => fc.string({ unit: fc.oneof(fc.constantFrom("a", "é", " ", "\n", "👷"), fc.string({ minLength: 1, maxLength: 1 })), maxLength: max })
const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ _tag: fc.constant("TextReply" as const), body: text(9000) }),
  fc.record({
    _tag: fc.constant("ButtonsReply" as const),
    body: text(1500),
    buttons: fc.array(fc.record({ id: text(300), title: text(40) }), { maxLength: 5 })
  }),
  fc.record({
    _tag: fc.constant("ListReplyMessage" as const),
    body: text(1500),
    button: text(30),
    header: text(80),
    sections: fc.array(fc.record({ title: text(40), rows: fc.array(fc.record({ id: fc.oneof(fc.uuid(), text(250)), title: text(40), description: text(100) }), { maxLength: 6 }) }), { maxLength: 3 })
  })
)

const runs = 1000

describe("reply limits", () => {
  it(`any reply either fits within every limit or is refused with a typed error (${runs} runs)`, () => {
    fc.assert(
      fc.property(reply, (r) => {
        const fitted = fitReply(r)
        if (Result.isFailure(fitted)) return fitted.failure._tag === "InvalidReply" && fitted.failure.reason.length > 0
        return fitted.success.length >= 1 && fitted.success.every(withinLimits) && fitted.success.every((f) => f._tag === r._tag)
      }),
      { numRuns: runs }
    )
  })

  it("documented rules: truncation with an ellipsis, ids never cut", () => {
    assert.strictEqual(truncate("Réseau électrique lot B — bâtiment nord", 24), "Réseau électrique lot B…")
    assert.strictEqual(truncate("👷".repeat(30), 24), "👷".repeat(23) + "…")
    const fitted = fitReply({ _tag: "ButtonsReply", body: "x", buttons: [{ id: "a".repeat(257), title: "t" }] })
    assert.isTrue(Result.isFailure(fitted))
  })

  it("phone numbers normalise to E.164 in one place", () => {
    assert.deepStrictEqual(normalizePhone("33612345678"), Option.some("+33612345678"))
    assert.deepStrictEqual(normalizePhone("whatsapp:+33612345678"), Option.some("+33612345678"))
    assert.deepStrictEqual(normalizePhone("+33 6 12 34 56 78"), Option.some("+33612345678"))
    assert.deepStrictEqual(normalizePhone("0033612345678"), Option.some("+33612345678"))
    assert.isTrue(Option.isNone(normalizePhone("abc")))
    assert.isTrue(Option.isNone(normalizePhone("+0123")))
  })
})
