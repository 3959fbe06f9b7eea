/**
 * Data types of a client history in Jepsen's event model: each operation is an `invoke` event
 * followed by a completion (`ok`, `fail` or `info`) from the same process.
 * Plain data only, so a history can be written to JSON Lines and read back unchanged.
 */

/** A register value: a string, or null when the key is absent. */
export type Value = string | null;

/** The arguments of a compare-and-set: `[expected, replacement]`. */
export type CasArguments = readonly [expected: Value, replacement: Value];

/** What an event says: a call began (`invoke`) or ended (`ok` done, `fail` no effect, `info` unknown). */
export type EventType = "invoke" | "ok" | "fail" | "info";

/** How a call ended; `info` also covers a call that never completed. */
export type Outcome = "ok" | "fail" | "info";

/** The function a client called on the key-value register. */
export type OperationFunction = "read" | "write" | "delete" | "cas";

/** Every event type, for validation. */
export const eventTypes: readonly EventType[] = ["invoke", "ok", "fail", "info"];

/** Every operation function, for validation. */
export const operationFunctions: readonly OperationFunction[] = ["read", "write", "delete", "cas"];

/** One line of a history. Times never decrease along the history; ties keep history order. */
export interface HistoryEvent {
  /** The client that issued the call; a process has at most one call outstanding. */
  process: number;
  type: EventType;
  f: OperationFunction;
  key: string;
  /**
   * Invoke: the write's value, the cas arguments, null for read and delete.
   * Completion: the value read for a read `ok`; otherwise an echo of the invoke's value.
   */
  value: Value | CasArguments;
  /** Any number that never decreases along the history; only the order matters. */
  time: number;
}

/** One call paired with its completion. */
export interface Operation {
  /** Position among all operations of the history, in invocation order; unique. */
  index: number;
  process: number;
  f: OperationFunction;
  key: string;
  /** Write: the value written. Cas: the replacement. Read `ok`: the value read. Otherwise null. */
  value: Value;
  /** Cas: the value compared against. Otherwise null. */
  expected: Value;
  /** `info` when the completion said so or the call never completed. */
  outcome: Outcome;
  /** Time of the invoke event. */
  invokeTime: number;
  /** Time of the completion event; null when the call never completed. */
  completeTime: number | null;
  /** Position of the invoke event in the history (0-based). */
  invokePosition: number;
  /** Position of the completion event; Infinity for `info`, which may take effect at any later point. */
  completePosition: number;
}

/** Whether `value` is a well-formed cas argument pair. */
export function isCasArguments(value: unknown): value is CasArguments {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((element: unknown) => element === null || typeof element === "string")
  );
}
