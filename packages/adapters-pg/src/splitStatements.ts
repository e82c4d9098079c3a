/**
 * Splits a SQL script into statements at top-level semicolons, respecting
 * comments, quoted strings and identifiers, and dollar-quoted bodies — the
 * wire client runs one statement per prepared query, while migration files
 * stay plain SQL that `psql -f` runs as-is.
 */
export const splitStatements = (script: string): ReadonlyArray<string> => {
  const statements: Array<string> = []
  let start = 0
  let i = 0
  const push = (end: number) => {
    const text = script.slice(start, end).trim()
    if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, "").trim() !== "") statements.push(text)
  }
  while (i < script.length) {
    const c = script[i]!
    const next = script[i + 1]
    if (c === "-" && next === "-") {
      const end = script.indexOf("\n", i)
      i = end === -1 ? script.length : end + 1
    } else if (c === "/" && next === "*") {
      const end = script.indexOf("*/", i + 2)
      i = end === -1 ? script.length : end + 2
    } else if (c === "'" || c === "\"") {
      let j = i + 1
      while (j < script.length) {
        if (script[j] === c && script[j + 1] === c) j += 2
        else if (script[j] === c) break
        else j++
      }
      i = j + 1
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_]*\$/.exec(script.slice(i))?.[0]
      if (tag === undefined) {
        i++
      } else {
        const end = script.indexOf(tag, i + tag.length)
        i = end === -1 ? script.length : end + tag.length
      }
    } else if (c === ";") {
      push(i)
      start = ++i
    } else {
      i++
    }
  }
  push(script.length)
  return statements
}
