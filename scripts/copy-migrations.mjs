// Copies the repository's migrations/ (the source of truth) into @parley/adapters-pg/migrations/,
// so the published package carries them. Run from packages/adapters-pg (its build and prepack scripts).
import { cpSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const from = fileURLToPath(new URL("../migrations/", import.meta.url))
const to = fileURLToPath(new URL("../packages/adapters-pg/migrations/", import.meta.url))
rmSync(to, { recursive: true, force: true })
cpSync(from, to, { recursive: true, filter: (src) => src.endsWith("/") || !src.includes(".") || src.endsWith(".sql") })
console.log(`migrations copied to ${to}`)
