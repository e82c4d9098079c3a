// Copies the server's non-code assets next to its compiled modules (dist mirrors src).
import { cpSync } from "node:fs"
import { fileURLToPath } from "node:url"

const server = new URL("../packages/server/", import.meta.url)
for (const asset of ["dev/simulator.html"]) {
  cpSync(fileURLToPath(new URL(`src/${asset}`, server)), fileURLToPath(new URL(`dist/${asset}`, server)))
}
