/**
 * Transaction commands: what a group's log carries for cross-group transactions (two-phase commit
 * with durable intents, after Percolator's locks and CockroachDB's intents and transaction records)
 * and for the one-phase fast path. Shapes and their validation only; txn-apply.ts applies them.
 *
 * A transaction `txn` has one record, kept by the group that serves `recordKey`, which decides it
 * exactly once (pending -> committed | aborted). Each participant group lays intents on its keys at
 * prepare and turns them into records (commit) or drops them (abort) at resolve. Deadlines are in
 * the state machine's clock (the largest command timeMs applied), so every replica agrees on them.
 */
import { batchOperationsMax } from "../shared/limits.ts";
import type { BatchStep } from "./command.ts";
import { keyProblemOf } from "./key-order.ts";

/** Checks and writes on one group's keys, with the keys it reads; shared by onePhase and prepare. */
export interface TxnWork {
  /** Checks (`check`, ifVersion 0 = absent) and writes (`put`, `delete` without conditions), at most one write per key. */
  readonly ops: readonly BatchStep[];
  /** Keys whose records the result returns (read under the transaction's lock). */
  readonly reads: readonly string[];
}

/** A transaction whose keys all live in this group: checks, reads and writes in one entry, no intents. */
export interface TxnOnePhase extends TxnWork {
  readonly type: "txn";
  readonly action: "onePhase";
}

/** Creates the transaction's record, pending until `deadlineMs`; `keys` are every key it will lock (for the sweep). */
export interface TxnBegin {
  readonly type: "txn";
  readonly action: "begin";
  readonly txn: string;
  readonly recordKey: string;
  readonly deadlineMs: number;
  readonly keys: readonly string[];
}

/** Checks this group's keys and locks them with intents (writes reserve their versions), or refuses. */
export interface TxnPrepare extends TxnWork {
  readonly type: "txn";
  readonly action: "prepare";
  readonly txn: string;
  readonly recordKey: string;
  readonly deadlineMs: number;
}

/**
 * Decides the record: `commit` (the coordinator, all prepared), `abort` (the coordinator gives up),
 * or `push` (someone met an intent: aborts only a pending record whose deadline has passed).
 */
export interface TxnDecide {
  readonly type: "txn";
  readonly action: "decide";
  readonly txn: string;
  readonly recordKey: string;
  readonly decision: "commit" | "abort" | "push";
}

/**
 * Turns this group's intents of `txn` into records (commit) or drops them (abort). With `keys`, it
 * is refused (wrongRange) unless the group serves every one of them: a sender that routes by key
 * (the sweep) then learns it reached the wrong group, instead of a no-op that looks like success.
 */
export interface TxnResolve {
  readonly type: "txn";
  readonly action: "resolve";
  readonly txn: string;
  readonly commit: boolean;
  readonly keys?: readonly string[];
}

/** Deletes a decided record once every intent of it is resolved. */
export interface TxnForget {
  readonly type: "txn";
  readonly action: "forget";
  readonly txn: string;
  readonly recordKey: string;
}

/** A transaction command. */
export type TxnOperation = TxnOnePhase | TxnBegin | TxnPrepare | TxnDecide | TxnResolve | TxnForget;

/** Every key a transaction command must be served here to run (its record key, or its checked, read and written keys). */
export function keysOfTxnOperation(operation: TxnOperation): readonly string[] {
  switch (operation.action) {
    case "onePhase":
    case "prepare":
      return [...operation.ops.map((step) => step.key), ...operation.reads];
    case "begin":
    case "decide":
    case "forget":
      return [operation.recordKey];
    case "resolve":
      return operation.keys ?? [];
  }
}

/** Why `operation` is malformed, or undefined. Steps are checked by the caller (stepProblemOf). */
export function txnProblemOf(operation: TxnOperation, stepProblemOf: (step: BatchStep) => string | undefined): string | undefined {
  switch (operation.action) {
    case "onePhase":
      return workProblemOf(operation, stepProblemOf);
    case "prepare":
      return idProblemOf(operation.txn) ?? keyProblemOf(operation.recordKey) ?? deadlineProblemOf(operation.deadlineMs) ?? workProblemOf(operation, stepProblemOf);
    case "begin":
      return idProblemOf(operation.txn) ?? keyProblemOf(operation.recordKey) ?? deadlineProblemOf(operation.deadlineMs) ?? keysProblemOf(operation.keys);
    case "decide":
      if (operation.decision !== "commit" && operation.decision !== "abort" && operation.decision !== "push") return "decision must be commit, abort or push";
      return idProblemOf(operation.txn) ?? keyProblemOf(operation.recordKey);
    case "resolve":
      return idProblemOf(operation.txn) ?? (typeof operation.commit === "boolean" ? undefined : "resolve needs commit true or false") ?? (operation.keys === undefined ? undefined : keysProblemOf(operation.keys));
    case "forget":
      return idProblemOf(operation.txn) ?? keyProblemOf(operation.recordKey);
    default:
      return `unknown txn action ${JSON.stringify((operation as { action?: unknown }).action)}`;
  }
}

function workProblemOf(work: TxnWork, stepProblemOf: (step: BatchStep) => string | undefined): string | undefined {
  if (!Array.isArray(work.ops) || !Array.isArray(work.reads)) return "a transaction needs ops and reads arrays";
  if (work.ops.length + work.reads.length === 0) return "a transaction touches at least one key";
  if (work.ops.length > batchOperationsMax) return `a transaction holds more than ${batchOperationsMax} steps`;
  const written = new Set<string>();
  for (const step of work.ops) {
    const problem = stepProblemOf(step);
    if (problem !== undefined) return problem;
    if (step.type !== "check" && step.condition !== undefined) return "transaction writes carry no conditions (use checks)";
    if (step.type !== "check" && written.has(step.key)) return `key ${JSON.stringify(step.key)} is written twice`;
    if (step.type !== "check") written.add(step.key);
  }
  return keysProblemOf(work.reads);
}

function keysProblemOf(keys: readonly string[]): string | undefined {
  if (!Array.isArray(keys)) return "keys must be an array";
  if (keys.length > batchOperationsMax) return `more than ${batchOperationsMax} keys`;
  for (const key of keys) {
    const problem = keyProblemOf(key);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function idProblemOf(txn: unknown): string | undefined {
  return typeof txn === "string" && txn.length >= 1 && txn.length <= 128 ? undefined : "txn id must be 1 to 128 characters";
}

function deadlineProblemOf(deadlineMs: unknown): string | undefined {
  return Number.isSafeInteger(deadlineMs) && (deadlineMs as number) >= 0 ? undefined : "deadlineMs must be a non-negative safe integer";
}
