/**
 * A seeded generator (mulberry32): the same `--seed` picks the same users,
 * bursts and redeliveries in the same order, so a failing run can be
 * repeated. The interleaving itself is the database's, never reproducible.
 */
export const makePrng = (seed: number) => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [0, n). */
  const int = (n: number) => Math.floor(next() * n)
  return { next, int }
}

export type Prng = ReturnType<typeof makePrng>
