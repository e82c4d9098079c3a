import { timingSafeEqual } from "node:crypto"

/** Compares two signatures without leaking, through timing, how much of them matched. */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  // timingSafeEqual needs equal lengths; comparing x with itself keeps the time independent of the mismatch.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false)
}
