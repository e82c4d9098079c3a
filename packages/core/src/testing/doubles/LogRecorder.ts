import { Logger, References } from "effect"

export interface LogRecord {
  readonly level: string
  readonly message: unknown
  readonly annotations: Readonly<Record<string, unknown>>
}

/**
 * A logger that keeps every log line with its annotations, for tests that
 * assert a structured event (`event: "handoff.requested"`) was logged.
 */
export const makeLogRecorder = () => {
  const records: Array<LogRecord> = []
  const logger = Logger.make((options) => {
    records.push({
      level: options.logLevel,
      message: options.message,
      annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return {
    records,
    /** The lines whose `event` annotation is `event`. */
    events: (event: string) => records.filter((r) => r.annotations["event"] === event),
    layer: Logger.layer([logger])
  } as const
}

export type LogRecorder = ReturnType<typeof makeLogRecorder>
