/**
 * Data types of a transaction history, in Jepsen's event model with `f: "txn"`: an `invoke` whose
 * value is the request of `POST /v1/txn` (reads, checks, writes), then a completion from the same
 * process: `ok` with the response (the reads with the versions they saw, the version each written
 * key got), `fail` (the transaction certainly did not commit: 409 or another 4xx), or `info` (it
 * may or may not have committed). A single-key operation is a transaction of one key: a GET is
 * `{"reads": [key]}`, a PUT `{"writes": [{"op": "put", ...}]}`, a compare-and-set adds a check.
 * Plain data only, so a history survives JSON Lines unchanged.
 */
import type { EventType, Outcome } from "./history.ts";

/** A condition of a transaction: the key has exactly `version`, or the key is absent. */
export type TxnCheck = { readonly key: string; readonly version: number } | { readonly key: string; readonly absent: true };

/** A write of a transaction: a put of a string value, or a delete. */
export type TxnWrite = { readonly op: "put"; readonly key: string; readonly value: string } | { readonly op: "delete"; readonly key: string };

/** What a transaction asked for (the invoke's value); every list may be empty. */
export interface TxnRequest {
  readonly reads: readonly string[];
  readonly checks: readonly TxnCheck[];
  readonly writes: readonly TxnWrite[];
}

/** One read of a committed transaction. An absent key has found false, value null and version 0. */
export interface TxnReadResult {
  readonly key: string;
  readonly found: boolean;
  readonly value: string | null;
  readonly version: number;
}

/** What a committed transaction answered (an `ok` completion's value). */
export interface TxnResponse {
  readonly reads: readonly TxnReadResult[];
  /** The version each written key got; a key written twice in one request got one version. */
  readonly versions: Readonly<Record<string, number>>;
}

/** One line of a transaction history. Times never decrease along the history. */
export interface TxnEvent {
  /** The client that issued the call; a process has at most one call outstanding. */
  readonly process: number;
  readonly type: EventType;
  readonly f: "txn";
  /** Invoke: the request. `ok`: the response. `fail` and `info`: null. */
  readonly value: TxnRequest | TxnResponse | null;
  /** Any number that never decreases along the history; only the order matters. */
  readonly time: number;
}

/** One transaction: its invoke paired with its completion. */
export interface TxnOperation {
  /** Position among all transactions of the history, in invocation order; unique. */
  readonly index: number;
  readonly process: number;
  readonly request: TxnRequest;
  /** Set exactly when `outcome` is `ok`. */
  readonly response: TxnResponse | null;
  /** `info` when the completion said so or the call never completed. */
  readonly outcome: Outcome;
  readonly invokeTime: number;
  /** Null when the call never completed. */
  readonly completeTime: number | null;
  /** Position of the invoke event in the history (0-based). */
  readonly invokePosition: number;
  /** Position of the completion event; Infinity for `info`, which may take effect at any later point. */
  readonly completePosition: number;
}

/** Whether `check` is an absence check. */
export function isAbsentCheck(check: TxnCheck): check is Extract<TxnCheck, { readonly absent: true }> {
  return "absent" in check;
}
