import { InMemorySessionStore } from "@parley/core"
import { sessionStoreContract } from "@parley/core/testing"

sessionStoreContract("in-memory", { layer: InMemorySessionStore, numRuns: 300 })
