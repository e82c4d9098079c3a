export * from "./TestDatabase.ts"
export * from "./PgBouncer.ts"
