import { InMemorySessionStore } from "@parley/core/memory"
import { sessionStoreContract } from "@parley/core/testing"

sessionStoreContract("in-memory", { layer: InMemorySessionStore, numRuns: 300 })
