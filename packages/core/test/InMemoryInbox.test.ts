import { Inbox, InMemoryMessagingLayer, InMemorySessionStore } from "@parley/core"
import { inboxContract } from "@parley/core/testing"
import { Layer } from "effect"

inboxContract("in-memory", InMemoryMessagingLayer.pipe(Layer.provide(InMemorySessionStore)) as Layer.Layer<Inbox>)
