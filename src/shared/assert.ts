/** Invariant checks that stay on in production (TigerBeetle style): a failed assert is a programmer error. */

/** Error thrown when an invariant does not hold. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/**
 * Throws an AssertionError with `message` unless `condition` holds. A message that interpolates
 * values is better given as a function on hot paths: it is then built only when the check fails.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === "string" ? message : message());
}

/** Asserts that `value` is a non-negative safe integer (terms, indexes, counters). */
export function assertIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AssertionError(`${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** Marks a branch that the type system proves unreachable. */
export function unreachable(value: never): never {
  throw new AssertionError(`unreachable: ${JSON.stringify(value)}`);
}
