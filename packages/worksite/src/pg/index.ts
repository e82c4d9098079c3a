/** @parley/worksite/pg: the worksite's data on Postgres (the repository's migrations create its tables) and the demo seed. */
export { PgAssistant, type PgAssistantServices, pgAssistantWith } from "./PgAssistant.ts"
export { makePgWorksite, PgWorksite } from "./PgWorksite.ts"
export { seedDemo } from "./DemoSeed.ts"
