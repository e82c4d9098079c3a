import { Inbox } from "@parley/core"
import { InMemoryMessagingLayer, InMemorySessionStore } from "@parley/core/memory"
import { inboxContract } from "@parley/core/testing"
import { Layer } from "effect"

inboxContract("in-memory", InMemoryMessagingLayer.pipe(Layer.provide(InMemorySessionStore)) as Layer.Layer<Inbox>)
