// The load generator of `npm run bench:e2e`, run as its own process so that
// building, signing and timing requests does not share an event loop with the
// server or with the fake Graph API. Input: one JSON argument (LoadConfig).
// Output: one JSON line on stdout (LoadResult).
import { metaWebhookPayload, postMetaWebhook } from "@parley/adapters-whatsapp/testing"
import { PhoneNumber } from "@parley/core"
import { createHmac } from "node:crypto"
import { Agent } from "node:http"

export interface LoadConfig {
  readonly url: string
  readonly appSecret: string
  readonly concurrency: number
  readonly messages: number
  readonly phones: ReadonlyArray<string>
  readonly idPrefix: string
  readonly texts: ReadonlyArray<string>
}

export interface LoadResult {
  /** Epoch milliseconds (sub-millisecond precision), comparable with the parent's clock. */
  readonly firstSendAt: number
  readonly lastAckAt: number
  readonly sent: number
  readonly failures: number
  readonly firstFailure: string | undefined
  readonly ackP50: number
  readonly ackP99: number
  readonly ackMax: number
  /** This process's CPU time during the run. */
  readonly cpuMillis: number
}

const epochNow = () => performance.timeOrigin + performance.now()

const config = JSON.parse(process.argv[2] ?? "{}") as LoadConfig
const target = new URL("/webhooks/whatsapp", config.url)
// One socket per in-flight request, kept alive: Meta's delivery infrastructure
// reuses connections too, and connection setup is not what is measured.
const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency })

// Everything is built and signed before the clock starts.
const requests = Array.from({ length: config.messages }, (_, i) => {
  const body = Buffer.from(JSON.stringify(metaWebhookPayload({
    from: PhoneNumber.make(config.phones[i % config.phones.length]!),
    id: `${config.idPrefix}.${i}`,
    message: { type: "text", text: { body: config.texts[i % config.texts.length]! } }
  })))
  return { body, signature: `sha256=${createHmac("sha256", config.appSecret).update(body).digest("hex")}` }
})

const post = (body: Buffer, signature: string) => postMetaWebhook({ agent, url: target, body, signature })

const main = async () => {
  const latencies = new Float64Array(requests.length)
  let next = 0
  let failures = 0
  let firstFailure: string | undefined
  let lastAckAt = 0
  const cpu = process.cpuUsage()
  const firstSendAt = epochNow()
  const sender = async () => {
    while (next < requests.length) {
      const i = next++
      const { body, signature } = requests[i]!
      const t0 = performance.now()
      try {
        const res = await post(body, signature)
        latencies[i] = performance.now() - t0
        // Anything but "accepted once" means the message will not get exactly one reply.
        if (res.status !== 200 || (JSON.parse(res.text) as { accepted?: number }).accepted !== 1) {
          failures++
          firstFailure ??= `HTTP ${res.status}: ${res.text.slice(0, 300)}`
        }
      } catch (e) {
        latencies[i] = performance.now() - t0
        failures++
        firstFailure ??= String(e)
      }
      lastAckAt = epochNow()
    }
  }
  await Promise.all(Array.from({ length: config.concurrency }, sender))
  const used = process.cpuUsage(cpu)
  agent.destroy()
  const sorted = latencies.sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const result: LoadResult = {
    firstSendAt,
    lastAckAt,
    sent: requests.length,
    failures,
    firstFailure,
    ackP50: at(0.5),
    ackP99: at(0.99),
    ackMax: sorted[sorted.length - 1] ?? 0,
    cpuMillis: (used.user + used.system) / 1000
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})
