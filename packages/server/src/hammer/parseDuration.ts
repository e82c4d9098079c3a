import { Duration, Option, Schema } from "effect"

export class InvalidDuration extends Schema.TaggedError<InvalidDuration>()("InvalidDuration", {
  flag: Schema.String,
  value: Schema.String
}) {
  override get message() {
    return `--${this.flag}: "${this.value}" is not a duration (examples: 200ms, 10s, 2m, "30 seconds")`
  }
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A flag's duration: `200ms`, `10s`, `2m`, `1h`, a bare number of seconds, or Effect's `"30 seconds"`. */
export const parseDuration = (flag: string, value: string): Duration.Duration | InvalidDuration => {
  const short = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (short !== null) return Duration.millis(Number(short[1]) * units[short[2] ?? "s"]!)
  return Option.getOrElse(Duration.fromInput(value as Duration.Input), () => new InvalidDuration({ flag, value }))
}
