import { Config, Option } from "effect"

/**
 * A provider's variables go together: all of `required` set, or none of them
 * (`None`). Only some set is an error naming the missing ones — a typo must not
 * silently turn a production server into dev mode.
 */
export const allOrNone = <A>(required: ReadonlyArray<string>, config: Config.Config<A>): Config.Config<Option.Option<A>> =>
  Config.all(required.map((name) => Config.option(Config.String(name)))).pipe(
    Config.flatMap((present) => present.every(Option.isNone) ? Config.succeed(Option.none<A>()) : Config.map(config, Option.some))
  )
