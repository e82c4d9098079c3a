import { PgClient } from "@effect/sql-pg"
import { demoSubcontractors } from "@parley/worksite"
import { seedDemo } from "@parley/worksite/pg"
import { createScratchDatabase } from "@parley/adapters-pg/testing"
import { Effect, Redacted } from "effect"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { eventually, startServer, type RunningServer } from "../test/support/ServerProcess.ts"

// Debian's Chromium, never a Playwright-downloaded browser: `apt-get install -y chromium`.
const chromiumPath = "/usr/bin/chromium"
const screenshotPath = fileURLToPath(new URL("./screenshots/simulator.png", import.meta.url))
const karim = demoSubcontractors[0]!

let db: Awaited<ReturnType<typeof createScratchDatabase>> | undefined
let server: RunningServer | undefined
let browser: BrowserContext | undefined
let profileDir: string | undefined
let page: Page
const pageErrors: Array<string> = []

const pg = () => PgClient.layer({ url: Redacted.make(db!.url), maxConnections: 1 })
const query = <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return (yield* sql.unsafe<A>(text, params)) as ReadonlyArray<A>
  }).pipe(Effect.provide(pg())))

beforeAll(async () => {
  // Checked first so a missing browser fails the run at once instead of being skipped or timing out.
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: the browser e2e test needs Debian's Chromium (apt-get install -y chromium)`)
  }
  db = await createScratchDatabase()
  // No META_* variables: dev mode, so `/` serves the simulator.
  server = await startServer({ DATABASE_URL: db.url })
  // After the start: the server migrates the empty scratch database, and seeds only an embedded one.
  await Effect.runPromise(seedDemo().pipe(Effect.provide(pg())))

  profileDir = mkdtempSync(join(tmpdir(), "parley-chromium-"))
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    // Playwright adds --headless and --no-sandbox from these two options.
    headless: true,
    chromiumSandbox: false,
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ],
    viewport: { width: 1000, height: 860 }
  })
  page = browser.pages()[0] ?? await browser.newPage()
  // Fail well inside vitest's timeout, with Playwright's message about what it was waiting for.
  page.setDefaultTimeout(20_000)
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`))
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(`console: ${m.text()}`) })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true })
  await server?.stop()
  await db?.drop()
}, 60_000)

describe("the dev simulator page, driven in Chromium", () => {
  it("the seed's manual test by clicking: Bonjour → Voir mes chantiers → Champigny → its tasks, in one active session", async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`server output:\n${server?.output()}`))
    const replies = page.getByTestId("chat").locator(".msg.bot")
    const sessionId = page.getByTestId("session-id")

    await page.goto(server!.url)
    await page.selectOption("#phone", karim.phone)
    await page.fill("#text", "Bonjour")
    await page.getByTestId("send").click()

    const menu = replies.nth(0)
    await menu.waitFor()
    assert.deepStrictEqual(await menu.locator(".actions button").allTextContents(), ["Voir mes chantiers", "Signaler un problème", "Parler à quelqu'un"])
    await sessionId.waitFor()
    const sessionBefore = await sessionId.textContent()

    await menu.getByRole("button", { name: "Voir mes chantiers", exact: true }).click()
    const projects = replies.nth(1)
    await projects.getByTestId("list-open").click()
    await projects.getByTestId("list-rows").locator("button").filter({ hasText: /^Champigny/ }).click()

    const tasks = replies.nth(2)
    await tasks.waitFor()
    assert.match(await tasks.innerText(), /Champigny/)
    await tasks.getByTestId("list-open").click()
    const taskRows = tasks.getByTestId("list-rows").locator("button")
    await taskRows.first().waitFor()
    // A row's text is its title, then its description on the next line.
    const titles = (await taskRows.allInnerTexts()).map((t) => t.split("\n")[0]!.trim())
    assert.deepStrictEqual(titles, ["Pose des cloisons R+1", "Réseau électrique lot B", "Ragréage hall d'entrée"])

    // The panel is refreshed in the same poll that rendered the tasks reply.
    assert.strictEqual(await page.getByTestId("session-status").textContent(), "active")
    assert.strictEqual(await sessionId.textContent(), sessionBefore, "the taps stayed in the session Bonjour opened")
    assert.strictEqual(await page.getByTestId("session-count").textContent(), "1")

    const sessionsInDb = () =>
      query<{ session_id: string; status: string; n: number }>(
        `SELECT m.session_id::text AS session_id, s.status, count(*)::int AS n FROM messages m
         JOIN conversation_sessions s ON s.id = m.session_id WHERE m.subcontractor_id = $1::uuid GROUP BY 1, 2`,
        [karim.id]
      )
    // On a timeout, assert on whatever is there: the diff then says what went wrong.
    const sessions = await eventually(async () => {
      const rows = await sessionsInDb()
      return rows.reduce((sum, r) => sum + r.n, 0) >= 6 ? rows : undefined
    }, "Karim's 6 messages in the database").catch(sessionsInDb)
    assert.deepStrictEqual(sessions.map((s) => [s.session_id, s.status, s.n]), [[sessionBefore, "active", 6]], "all 6 messages in ONE active session, the one the page showed")

    assert.deepStrictEqual(pageErrors, [], "no errors in the page")

    mkdirSync(dirname(screenshotPath), { recursive: true })
    await page.screenshot({ path: screenshotPath })
    console.log(`simulator screenshot: ${screenshotPath}`)
  })
})
