import { assert, describe, it } from "@effect/vitest"
import type { ListSection, Reply, ReplyButton } from "@parley/core"
import { cloudApiLimits, fitReply, normalizePhone, truncate, twilioBody, twilioLimits } from "@parley/adapters-whatsapp"
import { Option, Result } from "effect"
import * as fc from "fast-check"

/**
 * The oracle: the platforms' documented limits, written out here as numbers on
 * purpose — the adapter's own constants are what is under test. Cloud API
 * reference, "Interactive reply buttons / list messages" and "Text messages";
 * Twilio Messages API, `Body` ("up to 1,600 characters", error 21617).
 * Lengths are in Unicode code points.
 */
const CLOUD = {
  text: 4096,
  interactiveBody: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  rows: 10,
  sections: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24,
  header: 60,
  footer: 60
} as const
const TWILIO_BODY = 1600

const len = (s: string) => [...s].length
const blank = (s: string) => s.trim() === ""
const sameTitle = (s: string) => s.trim().toLowerCase()
const distinct = (values: ReadonlyArray<string>) => new Set(values).size === values.length
const within = (s: string | undefined, max: number) => s === undefined || (!blank(s) && len(s) <= max)

/** What the Cloud API accepts; the first broken rule, or undefined. */
const cloudApiViolation = (r: Reply): string | undefined => {
  if (blank(r.body)) return "blank body"
  switch (r._tag) {
    case "TextReply":
      return len(r.body) <= CLOUD.text ? undefined : "text over 4096"
    case "ButtonsReply":
      if (len(r.body) > CLOUD.interactiveBody) return "interactive body over 1024"
      if (!within(r.header, CLOUD.header) || !within(r.footer, CLOUD.footer)) return "header or footer"
      if (r.buttons.length < 1 || r.buttons.length > CLOUD.buttons) return "button count"
      if (!r.buttons.every((b) => !blank(b.title) && len(b.title) <= CLOUD.buttonTitle)) return "button title"
      if (!distinct(r.buttons.map((b) => sameTitle(b.title)))) return "duplicate button titles"
      if (!r.buttons.every((b) => len(b.id) >= 1 && len(b.id) <= CLOUD.buttonId) || !distinct(r.buttons.map((b) => b.id))) return "button ids"
      return undefined
    case "ListReplyMessage": {
      const rows = r.sections.flatMap((s) => s.rows)
      if (len(r.body) > CLOUD.interactiveBody) return "interactive body over 1024"
      if (!within(r.header, CLOUD.header) || !within(r.footer, CLOUD.footer)) return "header or footer"
      if (blank(r.button) || len(r.button) > CLOUD.listButton) return "list button"
      if (r.sections.length < 1 || r.sections.length > CLOUD.sections || rows.length < 1 || rows.length > CLOUD.rows) return "section or row count"
      if (r.sections.some((s) => s.rows.length === 0)) return "empty section"
      if (r.sections.some((s) => len(s.title) > CLOUD.sectionTitle)) return "section title"
      if (r.sections.length > 1 && r.sections.some((s) => blank(s.title))) return "untitled section among several"
      if (!rows.every((row) => !blank(row.title) && len(row.title) <= CLOUD.rowTitle)) return "row title"
      if (!rows.every((row) => within(row.description, CLOUD.rowDescription))) return "row description"
      if (!rows.every((row) => len(row.id) >= 1 && len(row.id) <= CLOUD.rowId) || !distinct(rows.map((row) => row.id))) return "row ids"
      return undefined
    }
  }
}

/**
 * Whether a reply can be fitted at all: "fits" when only lengths are over
 * (truncation and splitting fix those), "refused" when a rule would need
 * guessing, "either" when button titles only collide once cut (the adapter may
 * disambiguate them or refuse).
 */
const expected = (r: Reply): "fits" | "refused" | "either" => {
  if (blank(r.body)) return "refused"
  switch (r._tag) {
    case "TextReply":
      return "fits"
    case "ButtonsReply": {
      const ids = r.buttons.map((b) => b.id)
      if (r.buttons.length < 1 || r.buttons.length > CLOUD.buttons) return "refused"
      if (!ids.every((id) => len(id) >= 1 && len(id) <= CLOUD.buttonId) || !distinct(ids)) return "refused"
      if (r.buttons.some((b) => blank(b.title)) || !distinct(r.buttons.map((b) => sameTitle(b.title)))) return "refused"
      const cut = r.buttons.map((b) => (len(b.title) <= CLOUD.buttonTitle ? b.title : [...b.title].slice(0, CLOUD.buttonTitle - 1).join("") + "…"))
      return distinct(cut.map(sameTitle)) ? "fits" : "either"
    }
    case "ListReplyMessage": {
      const rows = r.sections.flatMap((s) => s.rows)
      const ids = rows.map((row) => row.id)
      if (r.sections.length < 1 || r.sections.length > CLOUD.sections || rows.length < 1 || rows.length > CLOUD.rows) return "refused"
      if (r.sections.some((s) => s.rows.length === 0)) return "refused"
      if (r.sections.length > 1 && r.sections.some((s) => blank(s.title))) return "refused"
      if (!ids.every((id) => len(id) >= 1 && len(id) <= CLOUD.rowId) || !distinct(ids)) return "refused"
      if (blank(r.button) || rows.some((row) => blank(row.title))) return "refused"
      return "fits"
    }
  }
}

// Texts of every length up to `max`, and right around the documented limits (default fast-check sizes stay tiny).
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "é", " ", "\n", "👷") },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: "binary" }) }
)
const ofLength = (n: number) =>
  fc.string({ unit, minLength: 1, maxLength: 60, size: "max" }).map((pattern) => {
    const c = [...pattern]
    return Array.from({ length: n }, (_, i) => c[i % c.length]).join("")
  })
const text = (max: number, ...limits: ReadonlyArray<number>) =>
  fc.oneof(
    fc.string({ unit, maxLength: 12 }),
    fc.integer({ min: 0, max }).chain(ofLength),
    ...(limits.length === 0 ? [] : [fc.constantFrom(...limits.flatMap((n) => [n - 1, n, n + 1])).chain(ofLength)])
  )
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const withOptional = <T extends object>(value: T, extra: { readonly header?: string | undefined; readonly footer?: string | undefined }) => ({
  ...value,
  ...(extra.header === undefined ? {} : { header: extra.header }),
  ...(extra.footer === undefined ? {} : { footer: extra.footer })
})
const id = (max: number) => fc.oneof(fc.constantFrom("a", "b", "c", ""), fc.uuid(), text(max + 50, max))
// Look-alike titles ("Réseau électrique lot A" / "… lot B") collide once cut to 20: the case unique titles are about.
const buttonTitle = fc.oneof(
  text(40, CLOUD.buttonTitle),
  fc.constantFrom("Oui", "oui ", "Non", "Réseau électrique lot A", "Réseau électrique lot B", "Réseau électrique lot C", "Réseau électrique")
)
const headerFooter = fc.record({ header: optional(text(80, CLOUD.header)), footer: optional(text(80, CLOUD.footer)) })

const textReply = fc.record({ _tag: fc.constant("TextReply" as const), body: text(9000, TWILIO_BODY, CLOUD.text) })
const buttonsReply = fc.tuple(
  text(1700, CLOUD.interactiveBody, TWILIO_BODY),
  fc.array(fc.record({ id: id(CLOUD.buttonId), title: buttonTitle }), { maxLength: 5 }),
  headerFooter
).map(([body, buttons, extra]): Reply => withOptional({ _tag: "ButtonsReply" as const, body, buttons }, extra))
const row = fc.tuple(id(CLOUD.rowId), text(40, CLOUD.rowTitle), optional(text(100, CLOUD.rowDescription)))
  .map(([rowId, title, description]) => ({ id: rowId, title, ...(description === undefined ? {} : { description }) }))
const sections = fc.oneof(
  fc.array(fc.record({ title: fc.oneof(text(40, CLOUD.sectionTitle), fc.constant("")), rows: fc.array(row, { maxLength: 6 }) }), { maxLength: 4 }),
  // Right around the row limit, otherwise valid, so a limit off by one either way shows.
  fc.tuple(fc.integer({ min: CLOUD.rows - 1, max: CLOUD.rows + 1 }), fc.integer({ min: 1, max: CLOUD.sections + 1 }), text(40, CLOUD.rowTitle)).map(([count, sectionCount, title]) =>
    Array.from({ length: sectionCount }, (_, s) => ({
      title: `Section ${s + 1}`,
      rows: Array.from({ length: count }, (_, i) => i).filter((i) => i % sectionCount === s).map((i) => ({ id: `row-${i}`, title: `${i} ${title}` }))
    })).filter((section) => section.rows.length > 0)
  )
)
const listReply = fc.tuple(text(1700, CLOUD.interactiveBody, TWILIO_BODY), text(30, CLOUD.listButton), sections, headerFooter)
  .map(([body, button, sections, extra]): Reply => withOptional({ _tag: "ListReplyMessage" as const, body, button, sections }, extra))
const anyReply: fc.Arbitrary<Reply> = fc.oneof(textReply, buttonsReply, listReply)

const idsOf = (r: Reply) =>
  r._tag === "ButtonsReply" ? r.buttons.map((b) => b.id) : r._tag === "ListReplyMessage" ? r.sections.flatMap((s) => s.rows.map((row) => row.id)) : []
const squeezed = (s: string) => s.replace(/\s+/g, "")

/** The checks both providers share: refusals are exactly the unfixable replies, ids are never touched, text is never lost. */
const checkFit = (r: Reply, fitted: Result.Result<ReadonlyArray<Reply>, { readonly _tag: string; readonly reason: string }>) => {
  const expect = expected(r)
  if (Result.isFailure(fitted)) {
    if (fitted.failure._tag !== "InvalidReply" || fitted.failure.reason === "") throw new Error("an untyped refusal")
    if (expect === "fits") throw new Error(`refused a reply that can be fitted: ${fitted.failure.reason}`)
    return undefined
  }
  if (expect === "refused") throw new Error("fitted a reply that breaks a rule no cut can fix")
  const parts = fitted.success
  if (parts.length < 1 || parts.some((p) => p._tag !== r._tag)) throw new Error("the reply changed kind")
  if (r._tag !== "TextReply" && parts.length !== 1) throw new Error("an interactive reply was split")
  if (JSON.stringify(parts.flatMap(idsOf)) !== JSON.stringify(idsOf(r))) throw new Error("ids were changed")
  if (r._tag === "TextReply" && squeezed(parts.map((p) => p.body).join("")) !== squeezed(r.body)) throw new Error("text was lost in the split")
  return parts
}

const runs = 1000

describe("reply limits, against the documented numbers", () => {
  it(`Cloud API: any reply is fitted within every limit, or refused with a typed error exactly when no cut can fix it (${runs} runs)`, () => {
    fc.assert(
      fc.property(anyReply, (r) => {
        const parts = checkFit(r, fitReply(r, cloudApiLimits))
        for (const part of parts ?? []) {
          const broken = cloudApiViolation(part)
          if (broken !== undefined) throw new Error(`sent to be refused: ${broken}`)
        }
        // What is within its limit is never touched.
        const part = parts?.[0]
        const kept = (original: string | undefined, fitted: string | undefined, max: number, what: string) => {
          if (original !== undefined && !blank(original) && len(original) <= max && fitted !== original) throw new Error(`${what} within the limit was changed`)
        }
        if (r._tag === "TextReply" && !blank(r.body) && len(r.body) <= CLOUD.text && parts?.length !== 1) throw new Error("a text within the limit was split")
        if (part?._tag === "ButtonsReply" && r._tag === "ButtonsReply") {
          kept(r.body, part.body, CLOUD.interactiveBody, "a body")
          kept(r.header, part.header, CLOUD.header, "a header")
          kept(r.footer, part.footer, CLOUD.footer, "a footer")
          r.buttons.forEach((b, i) => kept(b.title, part.buttons[i]!.title, CLOUD.buttonTitle, "a button title"))
        }
        if (part?._tag === "ListReplyMessage" && r._tag === "ListReplyMessage") {
          kept(r.body, part.body, CLOUD.interactiveBody, "a body")
          kept(r.header, part.header, CLOUD.header, "a header")
          kept(r.footer, part.footer, CLOUD.footer, "a footer")
          kept(r.button, part.button, CLOUD.listButton, "the list button")
          r.sections.forEach((section, s) => {
            kept(section.title, part.sections[s]!.title, CLOUD.sectionTitle, "a section title")
            section.rows.forEach((row, i) => {
              kept(row.title, part.sections[s]!.rows[i]!.title, CLOUD.rowTitle, "a row title")
              kept(row.description, part.sections[s]!.rows[i]!.description, CLOUD.rowDescription, "a row description")
            })
          })
        }
      }),
      { numRuns: runs }
    )
  })

  it(`Twilio: every Body sent (numbered text for buttons and lists) is 1 to 1600 characters and keeps every option (${runs} runs)`, () => {
    fc.assert(
      fc.property(anyReply, (r) => {
        const parts = checkFit(r, fitReply(r, twilioLimits))
        if (r._tag === "TextReply" && !blank(r.body) && len(r.body) <= TWILIO_BODY && parts?.length !== 1) throw new Error("a text within the limit was split")
        for (const part of parts ?? []) {
          const body = twilioBody(part)
          if (blank(body) || len(body) > TWILIO_BODY) throw new Error(`a Body of ${len(body)} characters`)
          if (part._tag !== "TextReply" && len(twilioBody({ ...part, body: r.body })) <= TWILIO_BODY && part.body !== r.body) throw new Error("a body that fits was cut")
          const options = part._tag === "ButtonsReply" ? part.buttons.map((b) => b.title) : part._tag === "ListReplyMessage" ? part.sections.flatMap((s) => s.rows.map((row) => row.title)) : []
          options.forEach((title, i) => {
            if (!body.includes(`${i + 1}. ${title}`)) throw new Error(`option ${i + 1} is missing`)
          })
        }
      }),
      { numRuns: runs }
    )
  })
})

describe("reply limits: the documented rules", () => {
  const fit = (r: Reply, limits = cloudApiLimits) => {
    const result = fitReply(r, limits)
    if (Result.isFailure(result)) throw new Error(result.failure.reason)
    return result.success
  }
  const refused = (r: Reply, limits = cloudApiLimits) => {
    const result = fitReply(r, limits)
    return Result.isFailure(result) ? result.failure.reason : undefined
  }
  const buttons = (...titles: ReadonlyArray<string>): Reply => ({ _tag: "ButtonsReply", body: "Lequel ?", buttons: titles.map((title, i) => ({ id: `b${i}`, title })) })
  const titlesOf = (r: Reply) => (r._tag === "ButtonsReply" ? r.buttons.map((b: ReplyButton) => b.title) : [])

  it("truncation with an ellipsis, in code points; ids never cut", () => {
    assert.strictEqual(truncate("Réseau électrique lot B — bâtiment nord", 24), "Réseau électrique lot B…")
    assert.strictEqual(truncate("👷".repeat(30), 24), "👷".repeat(23) + "…")
    assert.match(refused({ _tag: "ButtonsReply", body: "x", buttons: [{ id: "a".repeat(257), title: "t" }] }) ?? "", /button ids must be 1 to 256/)
  })

  it("button titles that collide once cut to 20 keep both ends; equal titles are refused", () => {
    assert.deepStrictEqual(titlesOf(fit(buttons("Réseau électrique lot A", "Réseau électrique lot B", "Voir mes chantiers"))[0]!), [
      "Réseau éle…que lot A",
      "Réseau éle…que lot B",
      "Voir mes chantiers"
    ])
    assert.match(refused(buttons("Oui", "oui ")) ?? "", /button titles must be unique/)
    assert.match(refused(buttons("Réseau électrique — aile A — niveau 2", "Réseau électrique — aile B — niveau 2")) ?? "", /unique once cut to 20/)
  })

  it("a list with several sections needs a title on each; a lone section may go untitled", () => {
    const rows = (p: string) => [{ id: `${p}1`, title: "Champigny" }]
    const list = (sections: ReadonlyArray<ListSection>): Reply => ({ _tag: "ListReplyMessage", body: "Vos chantiers", button: "Choisir", sections })
    assert.match(refused(list([{ title: "En cours", rows: rows("a") }, { title: " ", rows: rows("b") }])) ?? "", /several sections needs a title/)
    assert.strictEqual(fit(list([{ title: "", rows: rows("a") }])).length, 1)
  })

  it("a text is split at 1600 for Twilio and at 4096 for the Cloud API", () => {
    const body = "mot ".repeat(1000).trim()
    assert.deepStrictEqual(fit({ _tag: "TextReply", body }).map((p) => len(p.body)), [3999])
    const twilio = fit({ _tag: "TextReply", body }, twilioLimits).map((p) => p.body)
    assert.deepStrictEqual(twilio.map(len), [1599, 1599, 799])
    assert.strictEqual(twilio.join(" "), body)
  })

  it("Twilio: a long list degrades to one Body of at most 1600 characters with every option whole", () => {
    const reply: Reply = {
      _tag: "ListReplyMessage",
      header: "h".repeat(60),
      body: "b".repeat(1500),
      button: "Choisir",
      footer: "f".repeat(60),
      sections: [{ title: "Chantiers", rows: Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, title: `${i}`.padEnd(24, "t"), description: "d".repeat(72) })) }]
    }
    const [part] = fit(reply, twilioLimits)
    const body = twilioBody(part!)
    assert.strictEqual(len(body), TWILIO_BODY)
    for (let i = 0; i < 10; i++) assert.include(body, `${i + 1}. ${`${i}`.padEnd(24, "t")} — ${"d".repeat(72)}`)
    assert.strictEqual(len(fit(reply)[0]!.body), CLOUD.interactiveBody)
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
