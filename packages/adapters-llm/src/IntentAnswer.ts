import { foldText, Intent, type Project, type Slots, type StoredMessage, type Task, type TaskId } from "@parley/core"
import { Effect, Schema } from "effect"
import { OpenAiStructuredOutput } from "effect/ai"
import { LlmInvalidAnswer, type LlmUnavailable } from "./LlmFailure.ts"

/**
 * What the model must answer: one intent of the closed set and three slots,
 * each a short string or null. It is the only shape accepted; its JSON Schema
 * goes into `response_format`, and the same Schema decodes the answer.
 */
export const IntentAnswer = Schema.Struct({
  intent: Intent,
  site: Schema.NullOr(Schema.String.check(Schema.isMaxLength(120))),
  task: Schema.NullOr(Schema.String.check(Schema.isMaxLength(200))),
  problem: Schema.NullOr(Schema.String.check(Schema.isMaxLength(1_000)))
})
export type IntentAnswer = typeof IntentAnswer.Type

/** OpenAI's structured-output subset of JSON Schema, and the codec that reads the answer back (effect/ai). */
export const intentAnswerFormat = OpenAiStructuredOutput.toCodecOpenAI(IntentAnswer)

const decodeAnswer = Schema.decodeUnknownEffect(Schema.fromJsonString(intentAnswerFormat.codec))

const invalid = (reason: LlmInvalidAnswer["reason"], message: string) => new LlmInvalidAnswer({ reason, message })

/** The model's message content as an answer: malformed JSON and anything off the schema are `LlmInvalidAnswer`. */
export const parseAnswer = (content: string) => {
  if (content.trim() === "") return Effect.fail(invalid("empty", "empty answer"))
  return decodeAnswer(content).pipe(
    Effect.mapError((e) =>
      invalid(
        (() => {
          try {
            JSON.parse(content)
            return "schema" as const
          } catch {
            return "malformed_json" as const
          }
        })(),
        e.message.slice(0, 300)
      )
    )
  )
}

/** The task options the assistant's recent messages showed (newest first): what "the cloisons task" can refer to. */
const tasksShown = (history: ReadonlyArray<StoredMessage>) =>
  history
    .filter((m) => m.direction === "outbound")
    .flatMap((m) => m.metadata.toolOutputs ?? [])
    .flatMap((o) => Object.values(o.options).filter((option) => option.kind === "task"))
    .map((option) => ({ id: option.id as TaskId, title: option.label }))

export interface AnswerContext {
  readonly text: string
  readonly history: ReadonlyArray<StoredMessage>
  /** The user's sites, in the order the prompt numbered them. */
  readonly sites: ReadonlyArray<Project>
  readonly tasksOf: (site: Project) => Effect.Effect<ReadonlyArray<Task>, LlmUnavailable>
}

/**
 * The answer's slots checked against the user's own data. A site is one of
 * theirs, by name (accents and case ignored) or by its number in the prompt's
 * list; a task is one of that site's, or one the conversation showed. Anything
 * else fails: a model naming someone else's site is wrong, not half-right.
 * The problem slot only says a problem is described: the words kept are the
 * user's own text, so a model cannot put words in an incident.
 */
export const resolveSlots = (answer: IntentAnswer, context: AnswerContext) =>
  Effect.gen(function*() {
    const site = answer.site === null || answer.site.trim() === "" ? undefined : (() => {
      const folded = foldText(answer.site)
      const byNumber = /^\d+$/.test(folded) ? context.sites[Number(folded) - 1] : undefined
      return byNumber ?? context.sites.find((p) => foldText(p.name) === folded) ?? null
    })()
    if (site === null) return yield* invalid("site_not_users", "the answer names a site that is not one of the user's")
    let taskId: TaskId | undefined
    if (answer.task !== null && answer.task.trim() !== "") {
      const folded = foldText(answer.task)
      const candidates = site === undefined ? tasksShown(context.history) : yield* context.tasksOf(site)
      const task = candidates.find((t) => foldText(t.title) === folded)
      if (task === undefined) return yield* invalid("task_not_users", "the answer names a task that is not one of the user's")
      taskId = task.id
    }
    const problem = answer.problem !== null && answer.problem.trim() !== "" ? context.text.trim() : undefined
    return {
      ...(site === undefined ? {} : { projectId: site.id }),
      ...(taskId === undefined ? {} : { taskId }),
      ...(problem === undefined || problem === "" ? {} : { problem })
    } satisfies Slots
  })
