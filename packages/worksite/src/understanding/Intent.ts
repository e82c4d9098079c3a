import { Schema } from "effect"

/**
 * What the user wants, as the classifier understood it from their text and the
 * conversation so far. `more` and `back` only exist relative to the list last
 * shown: its next page, or where its Back leads.
 */
export const Intent = Schema.Literals(["greeting", "view_sites", "report_problem", "talk_to_someone", "more", "back", "unknown"])
export type Intent = typeof Intent.Type

/** Button ids of the menu: tapping one is the intent itself, no classification needed. */
export const menuButtonIds = {
  view_sites: "menu_view_sites",
  report_problem: "menu_report_problem",
  talk_to_someone: "menu_talk"
} as const satisfies Partial<Record<Intent, string>>

export const intentOfMenuButton = (id: string): Intent | undefined =>
  (Object.entries(menuButtonIds) as ReadonlyArray<[Intent, string]>).find(([, buttonId]) => buttonId === id)?.[0]
