/**
 * Applies transaction commands to a KV state machine's records and transaction state. Deterministic
 * like the rest of the state machine. The rules that make two-phase commit safe live here:
 *
 * - a key holds at most one intent; a prepare (or a one-phase transaction, or a single write) that
 *   meets another transaction's intent is refused with intentFound and changes nothing;
 * - a record is decided once: commit and abort only move it out of pending, so of a commit and a
 *   push racing through the log exactly the first wins, and the loser reads the winner's decision;
 * - a push aborts a pending record only when the state machine's clock has passed its deadline;
 *   a decision on a record that does not exist writes an aborted one (its transaction cannot commit);
 * - a prepare of a transaction that already ended here is refused, so a late duplicate cannot lay
 *   an intent that a later resolve would apply twice.
 */
import { encodeBase64 } from "../shared/base64.ts";
import { assert } from "../shared/assert.ts";
import { txnRecordsMax } from "../shared/limits.ts";
import { planBatch } from "./batch-plan.ts";
import type { TxnBegin, TxnDecide, TxnForget, TxnOperation, TxnPrepare, TxnResolve, TxnWork } from "./txn-command.ts";
import type { ApplyResult, IntentFound, TxnApplied, TxnRead, TxnStatusApplied } from "./result.ts";
import type { KvStore } from "./store.ts";
import type { Intent, TxnRecord, TxnTable } from "./txn-state.ts";
import type { WriteTarget } from "./write-apply.ts";

/** What transaction commands may touch in the state machine that applies them. */
export interface TxnTarget extends WriteTarget {
  readonly table: TxnTable;
  /** The state machine's clock after the command's timeMs (deadlines are compared with it). */
  readonly clockMs: number;
  /** Whether the group serves `key` (an intent on a key still being installed here waits for a resolve after acquire). */
  serves(key: string): boolean;
}

/** Applies one transaction command (its keys were checked to be served here). */
export function applyTxn(target: TxnTarget, operation: TxnOperation): ApplyResult {
  switch (operation.action) {
    case "onePhase":
      return onePhase(target, operation);
    case "prepare":
      return prepare(target, operation);
    case "begin":
      return begin(target, operation);
    case "decide":
      return decide(target, operation);
    case "resolve":
      return resolve(target, operation);
    case "forget":
      return forget(target, operation);
  }
}

/** The intents of other transactions than `txn` on any of `keys` (write intents only when `writesOnly`), or undefined. */
export function intentsBlocking(table: TxnTable, keys: Iterable<string>, txn: string | undefined, writesOnly = false): IntentFound | undefined {
  const intents: IntentFound["intents"][number][] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const intent = table.intents.get(key);
    if (intent === undefined || intent.txn === txn || (writesOnly && intent.write === undefined)) continue;
    intents.push({ key, txn: intent.txn, recordKey: intent.recordKey, deadlineMs: intent.deadlineMs });
  }
  return intents.length === 0 ? undefined : { ok: false, code: "intentFound", intents };
}

function onePhase(target: TxnTarget, work: TxnWork): ApplyResult {
  const blocked = intentsBlocking(target.table, keysOf(work), undefined);
  if (blocked !== undefined) return blocked;
  const failed = checkFailures(target, work);
  if (failed !== undefined) return failed;
  const reads = readsOf(target.store, work.reads);
  const versions: { key: string; version: number }[] = [];
  for (const step of work.ops) {
    if (step.type === "check") continue;
    const version = target.takeVersion();
    if (step.type === "put") target.store.set(step.key, { value: step.value, version });
    else target.store.delete(step.key);
    versions.push({ key: step.key, version });
  }
  return applied(reads, versions);
}

/**
 * Lays the intents of the keys the transaction does not hold here yet (their checks must hold);
 * keys it already holds (a repeated prepare, or an earlier prepare of other keys that routing later
 * sent here too) keep their intents and reserved versions.
 */
function prepare(target: TxnTarget, operation: TxnPrepare): ApplyResult {
  const { table } = target;
  if (table.ended.has(operation.txn)) return { ok: false, code: "txnRefused", reason: "the transaction already ended in this group" };
  const held = (key: string) => table.intents.get(key)?.txn === operation.txn;
  const fresh = { ops: operation.ops.filter((step) => !held(step.key)), reads: operation.reads.filter((key) => !held(key)) };
  const blocked = intentsBlocking(table, keysOf(fresh), operation.txn);
  if (blocked !== undefined) return blocked;
  const keys = new Set(keysOf(fresh));
  let bytes = 0;
  for (const step of fresh.ops) if (step.type === "put") bytes += step.value.length;
  if (!table.fits(keys.size, bytes)) return { ok: false, code: "txnRefused", reason: "the group holds too many intents; try again" };
  const failed = checkFailures(target, fresh);
  if (failed !== undefined) return failed;
  const reads = readsOf(target.store, operation.reads);
  const base = { txn: operation.txn, recordKey: operation.recordKey, deadlineMs: operation.deadlineMs };
  const writes = new Map<string, Intent>();
  for (const step of fresh.ops) {
    if (step.type === "check") continue;
    const version = target.takeVersion();
    writes.set(step.key, { ...base, write: step.type === "put" ? { type: "put", value: step.value, version } : { type: "delete", version } });
  }
  for (const key of keys) table.lay(key, writes.get(key) ?? base);
  return applied(reads, versionsHeld(table, operation));
}

function begin(target: TxnTarget, operation: TxnBegin): ApplyResult {
  const existing = target.table.records.get(operation.txn);
  if (existing !== undefined) return status(existing);
  if (target.table.records.size >= txnRecordsMax) return { ok: false, code: "txnRefused", reason: "the group holds too many transaction records; try again" };
  const record: TxnRecord = { recordKey: operation.recordKey, status: "pending", deadlineMs: operation.deadlineMs, keys: [...new Set(operation.keys)] };
  target.table.records.set(operation.txn, record);
  return status(record);
}

function decide(target: TxnTarget, operation: TxnDecide): ApplyResult {
  const { records } = target.table;
  const existing = records.get(operation.txn);
  if (existing === undefined) {
    // No record: it was never begun here (a late duplicate), or forgotten after every intent resolved. Either way it cannot commit.
    if (records.size >= txnRecordsMax) return { ok: false, code: "txnRefused", reason: "the group holds too many transaction records; try again" };
    const tombstone: TxnRecord = { recordKey: operation.recordKey, status: "aborted", deadlineMs: target.clockMs, keys: [] };
    records.set(operation.txn, tombstone);
    return status(tombstone);
  }
  if (existing.status !== "pending") return status(existing);
  const expired = target.clockMs >= existing.deadlineMs;
  if (operation.decision === "push" && !expired) return status(existing);
  const decided: TxnRecord = { ...existing, status: operation.decision === "commit" ? "committed" : "aborted" };
  records.set(operation.txn, decided);
  return status(decided);
}

function resolve(target: TxnTarget, operation: TxnResolve): ApplyResult {
  const { table } = target;
  const keys = table.keysOf(operation.txn).filter((key) => target.serves(key));
  for (const key of keys) {
    const intent = table.intents.get(key)!;
    table.drop(key);
    const write = intent.write;
    if (!operation.commit || write === undefined) continue;
    assert(write.version <= target.versionCounter, "a reserved version was handed out");
    if (write.type === "put") target.store.set(key, { value: write.value, version: write.version });
    else target.store.delete(key);
  }
  table.end(operation.txn, operation.commit);
  return { ok: true, type: "txnResolved", resolved: keys.length };
}

function forget(target: TxnTarget, operation: TxnForget): ApplyResult {
  const record = target.table.records.get(operation.txn);
  if (record === undefined) return { ok: true, type: "txnStatus", status: "aborted", deadlineMs: 0, forgotten: true };
  if (record.status === "pending") return status(record);
  target.table.records.delete(operation.txn);
  return { ...status(record), forgotten: true };
}

/** The failures of the work's checks against the current records (writes carry no conditions). */
function checkFailures(target: TxnTarget, work: TxnWork): ApplyResult | undefined {
  const checks = work.ops.filter((step) => step.type === "check");
  if (checks.length === 0) return undefined;
  const plan = planBatch(checks, (key) => target.store.get(key)?.version ?? 0, target.versionCounter);
  if (plan.failures.length === 0) return undefined;
  return { ok: false, code: "conditionFailed", failures: plan.failures };
}

/** The versions the operation's writes reserved here (every written key is held by its transaction). */
function versionsHeld(table: TxnTable, operation: TxnPrepare): { key: string; version: number }[] {
  const versions: { key: string; version: number }[] = [];
  for (const step of operation.ops) {
    if (step.type === "check") continue;
    const write = table.intents.get(step.key)?.write;
    assert(write !== undefined && table.intents.get(step.key)?.txn === operation.txn, "a prepared write holds its key");
    versions.push({ key: step.key, version: write.version });
  }
  return versions;
}

function keysOf(work: TxnWork): string[] {
  return [...work.ops.map((step) => step.key), ...work.reads];
}

function readsOf(store: KvStore, keys: readonly string[]): TxnRead[] {
  return keys.map((key) => {
    const record = store.get(key);
    return record === undefined ? { key, found: false, version: 0 } : { key, found: true, version: record.version, valueBase64: encodeBase64(record.value) };
  });
}

function applied(reads: TxnRead[], versions: { key: string; version: number }[]): TxnApplied {
  return { ok: true, type: "txn", reads, versions };
}

function status(record: TxnRecord): TxnStatusApplied {
  return { ok: true, type: "txnStatus", status: record.status, deadlineMs: record.deadlineMs };
}
