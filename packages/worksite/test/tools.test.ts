import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { InboundMessage, type ListRow, PhoneNumber, RequestContext, Session, SessionId, StoredMessage, UserId } from "@parley/core"
import {
  classifyByRules,
  foldText,
  InMemoryWorksite,
  Project,
  ProjectId,
  resolveTap,
  resolveTypedChoice,
  runTool,
  Subcontractor
} from "@parley/worksite"
import { DateTime } from "effect"

describe("rule classifier", () => {
  it.each([
    ["Bonjour", "greeting"],
    ["SALUT !", "greeting"],
    ["hello", "greeting"],
    ["Menu", "greeting"],
    ["Voir mes chantiers", "view_sites"],
    ["view sites", "view_sites"],
    ["je veux signaler un problème", "report_problem"],
    ["Report a problem", "report_problem"],
    ["parler à quelqu'un", "talk_to_someone"],
    ["Talk to someone", "talk_to_someone"],
    ["blabla", "unknown"],
    ["", "unknown"]
  ] as const)("%s → %s", (text, intent) => {
    assert.strictEqual(classifyByRules(text), intent)
  })

  it("folds accents, case and punctuation", () => {
    assert.strictEqual(foldText("  Où sont mes CHANTIERS ?! "), "ou sont mes chantiers")
  })
})

const user = new Subcontractor({ id: UserId.make("u-many"), phone: PhoneNumber.make("+33600000001"), displayName: "Many", locale: "en" })
const projects = Array.from({ length: 23 }, (_, i) => new Project({ id: ProjectId.make(`p-${i + 1}`), name: `Site ${String(i + 1).padStart(2, "0")}` }))

describe("list_projects_tool paginates past WhatsApp's 10 rows", () => {
  it.effect("9 sites and a More row per page, every row mapped in the tool output", () =>
    Effect.gen(function*() {
      const session = Session.start(SessionId.make("s-1"), user.id, DateTime.makeUnsafe(0))
      const inbound = new InboundMessage({ provider: "meta", providerMessageId: "x", from: user.phone, sentAt: 0, content: { _tag: "Text", body: "sites" } })
      const pages: Array<ReadonlyArray<ListRow>> = []
      for (const page of [1, 2, 3]) {
        const result = yield* runTool({ _tag: "ListProjects", page }).pipe(
          Effect.provideService(RequestContext, RequestContext.of({ inbound, user, session }))
        )
        const reply = result.replies[0]!
        assert.strictEqual(reply.reply._tag, "ListReplyMessage")
        const rows = reply.reply._tag === "ListReplyMessage" ? reply.reply.sections.flatMap((s) => s.rows) : []
        assert.isAtMost(rows.length, 10)
        for (const row of rows) assert.isDefined(reply.toolOutput?.options[row.id], `${row.id} is resolvable`)
        pages.push(rows)
      }
      assert.deepStrictEqual(pages.map((p) => p.length), [10, 10, 5])
      assert.strictEqual(pages[0]![9]!.title, "More…")
      const shown = pages.flatMap((p) => p.filter((r) => r.title !== "More…").map((r) => r.title))
      assert.deepStrictEqual(shown, projects.map((p) => p.name), "every site exactly once, in order")
    }).pipe(Effect.provide(InMemoryWorksite({
      subcontractors: [user],
      projects,
      assignments: projects.map((p) => [user.id, p.id] as const),
      tasks: []
    }))))
})

const outbound = (options: Record<string, { kind: string; id: string; label: string }>, tool = "list_projects_tool") =>
  new StoredMessage({
    id: crypto.randomUUID(),
    sessionId: SessionId.make("s"),
    userId: UserId.make("u"),
    direction: "outbound",
    content: "list",
    metadata: { toolOutputs: [{ tool, options }] },
    createdAt: 0
  })

describe("direct actions", () => {
  const older = outbound({ option_1: { kind: "project", id: "p-old", label: "Old site" } })
  const newer = outbound({ option_1: { kind: "project", id: "p-new", label: "Champigny" }, option_2: { kind: "project", id: "p-2", label: "Ivry" } })
  const history = [newer, older] // newest first

  it("a tap resolves against the newest list with that row, or the one whose label matches", () => {
    const byId = resolveTap(history, "option_1", undefined)
    assert.deepStrictEqual(byId._tag === "Hit" && byId.action, { _tag: "ListTasks", projectId: ProjectId.make("p-new"), page: 1 })
    const byLabel = resolveTap(history, "option_1", "Old site")
    assert.deepStrictEqual(byLabel._tag === "Hit" && byLabel.action, { _tag: "ListTasks", projectId: ProjectId.make("p-old"), page: 1 })
  })

  it("a tap with nothing to resolve against is a miss, never silence", () => {
    assert.strictEqual(resolveTap([], "option_1", "Champigny")._tag, "Miss")
    assert.strictEqual(resolveTap(history, "option_9", undefined)._tag, "Miss")
  })

  it("typed numbers and names resolve against the latest list only", () => {
    assert.deepStrictEqual(resolveTypedChoice(history, "2")?.action, { _tag: "ListTasks", projectId: ProjectId.make("p-2"), page: 1 })
    assert.deepStrictEqual(resolveTypedChoice(history, "champigny")?.action, { _tag: "ListTasks", projectId: ProjectId.make("p-new"), page: 1 })
    assert.isUndefined(resolveTypedChoice(history, "Old site"), "an older list is not what the user refers to")
    assert.isUndefined(resolveTypedChoice(history, "7"))
  })
})

