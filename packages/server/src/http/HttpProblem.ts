import { HttpServerResponse } from "effect/http"

/** Every 4xx/5xx the server sends: `{ "error": { "code", "message" } }`. */
export const problem = (status: number, code: string, message: string) =>
  HttpServerResponse.jsonUnsafe({ error: { code, message } }, { status })
