// A loopback TCP proxy in front of Postgres that reads the wire protocol in
// both directions (1 type byte + int32 length per message) and counts what
// tests and the benchmark need to see but the client does not expose:
//
// - round trips: a client "turn" is a client message sent after the server
//   spoke last — the client had to wait for an answer before going on. One
//   statement sent as Parse/Bind/Execute/Sync in one write is one turn; a
//   client that prepares first (Parse/Describe/Sync, wait, Bind/Execute/Sync)
//   takes two. ReadyForQuery ('Z') and Sync ('S') / Query ('Q') are counted
//   too, as a cross-check;
// - the server's NoticeResponse messages ('N'), which @effect/sql-pg drops;
// - for each backend (its pid, from BackendKeyData), the statements it
//   executed, by SQL text (Parse names a statement, Bind and Execute use it).
//
// The startup exchange (up to the first ReadyForQuery) is not counted. TLS is
// not supported: connect with `sslmode=disable` or no SSL (the default here).
import { Effect } from "effect"
import * as net from "node:net"

export interface Notice {
  readonly severity: string
  readonly code: string
  readonly message: string
}

export interface WireCounts {
  /** Client turns after startup: how many times the client waited for the server. */
  readonly roundTrips: number
  /** ReadyForQuery messages after startup (one per Sync or simple Query). */
  readonly readyForQuery: number
  /** Sync and simple Query messages sent by the client after startup. */
  readonly syncs: number
  /** Parse messages: statements (re)prepared. */
  readonly parses: number
  /** Execute messages and simple Queries: statements run. */
  readonly executes: number
  /** Physical connections opened through the tap. */
  readonly connections: number
}

export interface WireTap {
  /** The upstream URL with host and port replaced by the tap's. */
  readonly url: string
  readonly counts: () => WireCounts
  readonly notices: () => ReadonlyArray<Notice>
  /** The SQL text of every statement executed since the last reset (Parse text for Bind/Execute), each once. */
  readonly executed: () => ReadonlyArray<string>
  /** The SQL text of each execution since the last reset, in the order the client sent them. */
  readonly sequence: () => ReadonlyArray<string>
  /** Whether some Sync or Query has not been answered yet (ReadyForQuery): a statement is under way. */
  readonly busy: () => boolean
  /** Backend pid → (SQL text → number of executions) for the statements that match `filter`. */
  readonly executionsByBackend: (filter: (sql: string) => boolean) => ReadonlyMap<number, number>
  readonly reset: () => void
  readonly close: () => Promise<void>
}

const SSLRequest = 80877103
const GSSENCRequest = 80877104
const CancelRequest = 80877102

const cstring = (buf: Buffer, at: number): [string, number] => {
  const end = buf.indexOf(0, at)
  return [buf.toString("utf8", at, end), end + 1]
}

/** Starts a tap in front of the server of `upstream` (a postgres:// URL). */
export const startWireTap = async (upstream: string): Promise<WireTap> => {
  const target = new URL(upstream)
  const host = target.hostname === "localhost" ? "127.0.0.1" : target.hostname
  const port = Number(target.port || 5432)

  let counts = { roundTrips: 0, readyForQuery: 0, syncs: 0, parses: 0, executes: 0, connections: 0 }
  let notices: Array<Notice> = []
  // pid → sql → executions
  let executions = new Map<number, Map<string, number>>()
  let sequence: Array<string> = []
  let awaiting = 0
  const sockets = new Set<net.Socket>()

  const server = net.createServer((client) => {
    client.setNoDelay(true)
    const backend = net.connect({ host, port })
    backend.setNoDelay(true)
    sockets.add(client)
    sockets.add(backend)
    counts.connections++

    // Per-connection protocol state.
    let clientBuf: Buffer = Buffer.alloc(0)
    let serverBuf: Buffer = Buffer.alloc(0)
    let clientUntyped = true // the first client message(s) carry no type byte
    let serverSingleBytes = 0 // answers to SSLRequest / GSSENCRequest: one byte, no frame
    let ready = false // past the startup exchange
    let lastSpoke: "client" | "server" = "server"
    let pid = -1
    const statements = new Map<string, string>()
    const portals = new Map<string, string>()

    const execute = (sql: string) => {
      counts.executes++
      sequence.push(sql)
      const mine = executions.get(pid) ?? new Map<string, number>()
      mine.set(sql, (mine.get(sql) ?? 0) + 1)
      executions.set(pid, mine)
    }

    const onClientMessage = (type: string, body: Buffer) => {
      if (!ready) return
      if (type === "X") return // Terminate: no answer expected
      if (lastSpoke === "server") counts.roundTrips++
      lastSpoke = "client"
      switch (type) {
        case "P": {
          const [name, next] = cstring(body, 0)
          const [sql] = cstring(body, next)
          statements.set(name, sql)
          counts.parses++
          break
        }
        case "B": {
          const [portal, next] = cstring(body, 0)
          const [statement] = cstring(body, next)
          portals.set(portal, statements.get(statement) ?? `<unknown statement ${statement}>`)
          break
        }
        case "E": {
          const [portal] = cstring(body, 0)
          execute(portals.get(portal) ?? `<unknown portal ${portal}>`)
          break
        }
        case "Q": {
          counts.syncs++
          awaiting++
          execute(cstring(body, 0)[0])
          break
        }
        case "S":
          counts.syncs++
          awaiting++
          break
      }
    }

    const onServerMessage = (type: string, body: Buffer) => {
      if (type === "K") pid = body.readInt32BE(0)
      if (type === "N") {
        const fields = new Map<string, string>()
        let at = 0
        while (at < body.length && body[at] !== 0) {
          const code = String.fromCharCode(body[at]!)
          const [value, next] = cstring(body, at + 1)
          fields.set(code, value)
          at = next
        }
        notices.push({ severity: fields.get("V") ?? fields.get("S") ?? "", code: fields.get("C") ?? "", message: fields.get("M") ?? "" })
      }
      if (type === "Z") {
        if (ready) {
          counts.readyForQuery++
          awaiting--
        }
        ready = true
      }
      if (ready) lastSpoke = "server"
    }

    client.on("data", (chunk: Buffer) => {
      backend.write(chunk)
      clientBuf = clientBuf.length === 0 ? chunk : Buffer.concat([clientBuf, chunk])
      while (true) {
        if (clientUntyped) {
          if (clientBuf.length < 8) break
          const length = clientBuf.readInt32BE(0)
          if (clientBuf.length < length) break
          const code = clientBuf.readInt32BE(4)
          clientBuf = clientBuf.subarray(length)
          if (code === SSLRequest || code === GSSENCRequest) serverSingleBytes++
          else if (code !== CancelRequest) clientUntyped = false // the StartupMessage
          continue
        }
        if (clientBuf.length < 5) break
        const length = clientBuf.readInt32BE(1)
        if (clientBuf.length < 1 + length) break
        onClientMessage(String.fromCharCode(clientBuf[0]!), clientBuf.subarray(5, 1 + length))
        clientBuf = clientBuf.subarray(1 + length)
      }
    })

    backend.on("data", (chunk: Buffer) => {
      serverBuf = serverBuf.length === 0 ? chunk : Buffer.concat([serverBuf, chunk])
      while (true) {
        if (serverSingleBytes > 0) {
          if (serverBuf.length < 1) break
          if (serverBuf[0] === 0x53) {
            // TLS from here on: nothing left to read. Refuse rather than count wrong.
            closeBoth()
            return
          }
          serverSingleBytes--
          serverBuf = serverBuf.subarray(1)
          continue
        }
        if (serverBuf.length < 5) break
        const length = serverBuf.readInt32BE(1)
        if (serverBuf.length < 1 + length) break
        onServerMessage(String.fromCharCode(serverBuf[0]!), serverBuf.subarray(5, 1 + length))
        serverBuf = serverBuf.subarray(1 + length)
      }
      // Forward after parsing: by the time the client reads a ReadyForQuery,
      // everything before it has been counted.
      client.write(chunk)
    })

    const closeBoth = () => {
      client.destroy()
      backend.destroy()
      sockets.delete(client)
      sockets.delete(backend)
    }
    client.on("close", closeBoth)
    backend.on("close", closeBoth)
    client.on("error", closeBoth)
    backend.on("error", closeBoth)
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address() as net.AddressInfo
  const url = new URL(upstream)
  url.hostname = "127.0.0.1"
  url.port = String(address.port)

  return {
    url: url.toString(),
    counts: () => ({ ...counts }),
    notices: () => [...notices],
    executed: () => [...executions.values()].flatMap((bySql) => [...bySql.keys()]),
    sequence: () => [...sequence],
    busy: () => awaiting > 0,
    executionsByBackend: (filter) => {
      const out = new Map<number, number>()
      for (const [pid, bySql] of executions) {
        let n = 0
        for (const [sql, count] of bySql) if (filter(sql)) n += count
        if (n > 0) out.set(pid, n)
      }
      return out
    },
    reset: () => {
      counts = { roundTrips: 0, readyForQuery: 0, syncs: 0, parses: 0, executes: 0, connections: counts.connections }
      notices = []
      executions = new Map()
      sequence = []
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** `startWireTap` as a scoped resource: the tap closes with the scope. */
export const wireTap = (upstream: string) =>
  Effect.acquireRelease(
    Effect.promise(() => startWireTap(upstream)),
    (tap) => Effect.promise(() => tap.close())
  )
