/** @parley/worksite/pg: the worksite's data on Postgres (the repository's migrations create its tables) and the demo seed. */
export { PgAssistant, type PgAssistantServices } from "./PgAssistant.ts"
export { makePgWorksite, PgWorksite } from "./PgWorksite.ts"
export { seedDemo } from "./DemoSeed.ts"
