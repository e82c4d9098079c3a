import { Effect } from "effect"
import { startFakeProviderServer, type Answer } from "./FakeProviderServer.ts"

export const twilioError = (status: number, code: number, message: string): Answer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }
})

/** A fake of Twilio's Messages API: records form posts, answers with a message resource, or queued errors. */
export const startFakeTwilioApi = async () => {
  let counter = 0
  const server = await startFakeProviderServer((request): Answer => {
    if (request.method !== "POST" || !/^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(request.path)) {
      return twilioError(404, 20404, "The requested resource was not found")
    }
    const form = new URLSearchParams(request.body)
    return {
      status: 201,
      body: { sid: `SMfake${String(++counter).padStart(26, "0")}`, status: "queued", to: form.get("To"), from: form.get("From"), body: form.get("Body") }
    }
  })
  return server
}

export const FakeTwilioApiResource = Effect.acquireRelease(
  Effect.promise(() => startFakeTwilioApi()),
  (fake) => Effect.promise(() => fake.close())
)
