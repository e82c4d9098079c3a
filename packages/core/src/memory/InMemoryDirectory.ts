import { Effect, Layer } from "effect"
import { Directory } from "../identity/Directory.ts"
import type { User } from "../identity/User.ts"

/** A `Directory` of a fixed list of users, known by phone number: for tests, demos and small deployments. */
export const InMemoryDirectory = (users: ReadonlyArray<User>): Layer.Layer<Directory> =>
  Layer.succeed(Directory, Directory.of(Directory.fromPhoneLookup((phone) => Effect.sync(() => users.find((u) => u.phone === phone)))))
