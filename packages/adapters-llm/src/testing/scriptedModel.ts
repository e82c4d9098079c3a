import { foldText } from "@parley/core"
import { answerJson, classifiedText, type FakeAnswer, type RecordedChatRequest } from "./FakeChatCompletions.ts"

/**
 * A fake model for the fake endpoint: the answer for each sentence it is
 * asked about (matched with case, accents and punctuation ignored), and
 * `unknown` for the rest.
 */
export const scriptedModel = (script: Record<string, Parameters<typeof answerJson>[0]>) => {
  const byFolded = new Map(Object.entries(script).map(([sentence, answer]) => [foldText(sentence), answerJson(answer)]))
  return (request: RecordedChatRequest): FakeAnswer => ({
    content: byFolded.get(foldText(classifiedText(request.body))) ?? answerJson({ intent: "unknown" })
  })
}
