import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PhoneNumber, SessionId, StoredMessage, UserId } from "@parley/core"
import { buttonsOf, chatAs, RecordingMessengerLayer, rowsOf } from "@parley/core/testing"
import { classifyByRules, InMemoryAssistant, Project, ProjectId, Subcontractor, Task, TaskId } from "@parley/worksite"

const luc = new Subcontractor({ id: UserId.make("u-luc"), phone: PhoneNumber.make("+33600000011"), displayName: "Luc", locale: "fr" })
const ann = new Subcontractor({ id: UserId.make("u-ann"), phone: PhoneNumber.make("+447700900011"), displayName: "Ann", locale: "en" })
const projects = Array.from({ length: 23 }, (_, i) => new Project({ id: ProjectId.make(`p-${i + 1}`), name: `Site ${String(i + 1).padStart(2, "0")}` }))
const tasks = Array.from({ length: 12 }, (_, i) =>
  new Task({ id: TaskId.make(`t-${i + 1}`), projectId: projects[0]!.id, title: `Tâche ${String(i + 1).padStart(2, "0")}`, status: "todo" }))

const TestLayer = () =>
  Layer.mergeAll(
    InMemoryAssistant({
      subcontractors: [luc, ann],
      projects,
      assignments: projects.flatMap((p) => [[luc.id, p.id] as const, [ann.id, p.id] as const]),
      tasks
    }),
    RecordingMessengerLayer
  )

const listShown = (options: Record<string, { kind: string; id: string; label: string }>, back?: { kind: string; id: string }) =>
  new StoredMessage({
    id: "m",
    sessionId: SessionId.make("s"),
    userId: luc.id,
    direction: "outbound",
    content: "list",
    metadata: { toolOutputs: [{ tool: "list_projects_tool", options, ...(back === undefined ? {} : { back }) }] },
    createdAt: 0
  })

describe("the rule classifier reads the history for follow-ups", () => {
  const paginated = [listShown({ option_1: { kind: "project", id: "p-1", label: "Site 01" }, option_10: { kind: "projects_page", id: "2", label: "Plus…" } }, { kind: "menu", id: "greeting" })]
  const lastPage = [listShown({ option_1: { kind: "project", id: "p-19", label: "Site 19" } })]

  it.each(["suivant", "Page suivante", "la suite", "next", "MORE"])("%s after a list with a next page → more", (text) => {
    assert.strictEqual(classifyByRules(text, paginated), "more")
  })

  it.each(["retour", "Précédent", "back", "go back"])("%s after a list that has somewhere to go back to → back", (text) => {
    assert.strictEqual(classifyByRules(text, paginated), "back")
  })

  it("the same words mean nothing without such a list, and only whole messages count", () => {
    assert.strictEqual(classifyByRules("suivant", []), "unknown")
    assert.strictEqual(classifyByRules("suivant", lastPage), "unknown", "no next page")
    assert.strictEqual(classifyByRules("retour", lastPage), "unknown", "nowhere to go back to")
    assert.strictEqual(classifyByRules("je ne peux plus entrer", paginated), "unknown")
    assert.strictEqual(classifyByRules("back to the sites", paginated), "view_sites")
  })
})

describe("follow-ups through the pipeline: \"suivant\" pages on, \"retour\" goes back", () => {
  it.effect("through the site list's pages and back to the menu (French)", () =>
    Effect.gen(function*() {
      const chat = chatAs(luc.phone)
      const [page1] = yield* chat.say("mes chantiers")
      assert.strictEqual(page1!.body, "Vos chantiers (23) — page 1/3")
      const [page2] = yield* chat.say("suivant")
      assert.strictEqual(page2!.body, "Vos chantiers (23) — page 2/3")
      assert.strictEqual(rowsOf(page2)[0]!.title, "Site 10")
      const [page3] = yield* chat.say("Plus")
      assert.strictEqual(page3!.body, "Vos chantiers (23) — page 3/3")
      const [stillPage3] = yield* chat.say("suivant")
      assert.strictEqual(stillPage3!.body, "Je n'ai pas compris. Écrivez « menu » ou choisissez une option :", "no page after the last")
      yield* chat.say("mes chantiers")
      yield* chat.say("suivant")
      const [back1] = yield* chat.say("retour")
      assert.strictEqual(back1!.body, "Vos chantiers (23) — page 1/3", "back from page 2 is page 1")
      const [menu] = yield* chat.say("retour")
      assert.deepStrictEqual(buttonsOf(menu), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"], "back from page 1 is the menu")
    }).pipe(Effect.provide(TestLayer())))

  it.effect("back from a task list is the site list; from a task, its task list (English)", () =>
    Effect.gen(function*() {
      const chat = chatAs(ann.phone)
      const [sites] = yield* chat.say("sites")
      const [taskList] = yield* chat.tap(sites, "Site 01")
      assert.strictEqual(taskList!.body, "Site 01 — 12 tasks")
      const [nextTasks] = yield* chat.say("next")
      assert.strictEqual(rowsOf(nextTasks)[0]!.title, "Tâche 10")
      const [firstTasks] = yield* chat.say("back")
      assert.strictEqual(rowsOf(firstTasks)[0]!.title, "Tâche 01", "back from the second page of tasks is the first")
      const [detail] = yield* chat.tap(firstTasks, "Tâche 03")
      assert.deepStrictEqual(buttonsOf(detail), ["Mark done", "Report a problem", "Back"])
      const [up] = yield* chat.say("previous")
      assert.strictEqual(up!.body, "Site 01 — 12 tasks")
      const [siteList] = yield* chat.say("go back")
      assert.strictEqual(siteList!.body, "Your sites (23) — page 1/3")
    }).pipe(Effect.provide(TestLayer())))
})
