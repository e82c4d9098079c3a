import { PhoneNumber, User, UserId } from "@parley/core"
import { InMemoryDirectory } from "@parley/core/memory"
import { assistantContract, EchoAssistantLayer } from "@parley/core/testing"
import { Layer } from "effect"

const ada = new User({ id: UserId.make(crypto.randomUUID()), phone: PhoneNumber.make("+15550000001"), displayName: "Ada" })

assistantContract("echo", {
  layer: Layer.merge(EchoAssistantLayer, InMemoryDirectory([ada])),
  user: ada,
  conversation: [
    { _tag: "Text", body: "hello" },
    { _tag: "ButtonReply", id: "echo_again", title: "Again" },
    { _tag: "Media", kind: "image", ref: "media-1" },
    { _tag: "Text", body: "human" }
  ]
})
