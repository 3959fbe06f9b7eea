/**
 * What applying a command returns. Results are plain JSON-safe data: every replica computes the
 * same result for the same entry, and sessions keep the result to answer a retried command.
 */
import type { BadCommand } from "./command.ts";

/** A put was applied; `version` is the key's new version. */
export interface PutApplied {
  readonly ok: true;
  readonly type: "put";
  readonly version: number;
}

/** A delete was applied; it took `version` from the counter; `deleted` says whether the key existed. */
export interface DeleteApplied {
  readonly ok: true;
  readonly type: "delete";
  readonly version: number;
  readonly deleted: boolean;
}

/**
 * A batch was applied. `versions[i]` belongs to step i: the new version for a put or a delete, the
 * version that was checked for a check.
 */
export interface BatchApplied {
  readonly ok: true;
  readonly type: "batch";
  readonly versions: readonly number[];
}

/** A noop was applied (the session was refreshed). */
export interface NoopApplied {
  readonly ok: true;
  readonly type: "noop";
}

/** One condition that did not hold: step `index` (0 for a single put or delete) on `key`, whose version is `currentVersion` (0 = absent). */
export interface ConditionFailure {
  readonly index: number;
  readonly key: string;
  readonly currentVersion: number;
}

/** Nothing was written because conditions failed; `failures` names every failed step in order. */
export interface ConditionFailed {
  readonly ok: false;
  readonly code: "conditionFailed";
  readonly failures: readonly ConditionFailure[];
}

/**
 * The command's seq is below the last seq applied for its client, so its result is no longer kept:
 * the client has already moved past it (a late duplicate). Nothing was applied. `lastSeq` is the
 * client's last applied seq.
 */
export interface SessionExpired {
  readonly ok: false;
  readonly code: "sessionExpired";
  readonly lastSeq: number;
}

/** A range command was applied (or was a repeat); `epoch` is the group's ownership epoch after it. */
export interface RangeApplied {
  readonly ok: true;
  readonly type: "range";
  readonly epoch: number;
}

/** A range command was refused (the saga's assumption about this group does not hold); nothing changed. */
export interface RangeRefused {
  readonly ok: false;
  readonly code: "rangeRefused";
  readonly reason: string;
}

/** The key is not served by this group at this index; `movedTo` names the group it went to, when known. Not applied, not recorded in the session. */
export interface WrongRange {
  readonly ok: false;
  readonly code: "wrongRange";
  readonly epoch: number;
  readonly movedTo?: string;
}

/** The key's range is frozen while it moves; retry shortly. Not applied, not recorded in the session. */
export interface RangeFrozen {
  readonly ok: false;
  readonly code: "rangeFrozen";
  readonly epoch: number;
}

/** One key a transaction read: `version` 0 and no value when absent. */
export interface TxnRead {
  readonly key: string;
  readonly found: boolean;
  readonly version: number;
  readonly valueBase64?: string;
}

/**
 * A transaction's part here was applied: one-phase, its writes are records; prepared, its keys are
 * locked by intents and its writes reserved `versions`. `reads` show the records before its writes.
 */
export interface TxnApplied {
  readonly ok: true;
  readonly type: "txn";
  readonly reads: readonly TxnRead[];
  readonly versions: readonly { readonly key: string; readonly version: number }[];
}

/** Where a transaction record stands after a begin, decide or forget (`forgotten`: the record was deleted). */
export interface TxnStatusApplied {
  readonly ok: true;
  readonly type: "txnStatus";
  readonly status: "pending" | "committed" | "aborted";
  readonly deadlineMs: number;
  readonly forgotten?: boolean;
}

/** A transaction's intents here were resolved; `resolved` counts them (0 for a repeat). */
export interface TxnResolved {
  readonly ok: true;
  readonly type: "txnResolved";
  readonly resolved: number;
}

/**
 * Keys are locked by other transactions' intents: nothing was applied, nothing recorded in the
 * session. The caller waits for them to resolve, or pushes their records.
 */
export interface IntentFound {
  readonly ok: false;
  readonly code: "intentFound";
  readonly intents: readonly { readonly key: string; readonly txn: string; readonly recordKey: string; readonly deadlineMs: number }[];
}

/** A transaction command was refused: the transaction already ended here, or the group holds too many intents. Nothing changed. */
export interface TxnRefused {
  readonly ok: false;
  readonly code: "txnRefused";
  readonly reason: string;
}

/** Why a key cannot be served here. */
export type KeyRefusal = WrongRange | RangeFrozen;

/** Any outcome of KvStateMachine.apply. */
export type ApplyResult =
  | PutApplied
  | DeleteApplied
  | BatchApplied
  | NoopApplied
  | RangeApplied
  | TxnApplied
  | TxnStatusApplied
  | TxnResolved
  | ConditionFailed
  | IntentFound
  | TxnRefused
  | BadCommand
  | SessionExpired
  | RangeRefused
  | KeyRefusal;
