import { assistantContract } from "@parley/core/testing"
import { demoSubcontractors, InMemoryWorksite, RuleIntentClassifier, WorksiteAssistant } from "@parley/worksite"
import { Layer } from "effect"

assistantContract("worksite", {
  layer: WorksiteAssistant.layer.pipe(Layer.provide(RuleIntentClassifier), Layer.provideMerge(InMemoryWorksite())),
  user: demoSubcontractors[0]!,
  conversation: [
    { _tag: "Text", body: "Bonjour" },
    { _tag: "ButtonReply", id: "menu_view_sites", title: "Voir mes chantiers" },
    { _tag: "Text", body: "2" },
    { _tag: "Text", body: "signaler un problème" },
    { _tag: "Media", kind: "image", ref: "media-1", caption: "fuite" },
    { _tag: "Text", body: "parler à quelqu'un" }
  ]
})
