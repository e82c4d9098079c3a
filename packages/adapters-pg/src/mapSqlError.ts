import { StoreUnavailable } from "@parley/core"

/**
 * A driver or decode error becomes the port's `StoreUnavailable`, naming the
 * operation: the core never sees a raw `SqlError` (nor its SQL text).
 */
export const storeUnavailable = (operation: string) => (error: { readonly message: string }) =>
  new StoreUnavailable({ operation, message: error.message })
