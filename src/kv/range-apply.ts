/**
 * Applies range commands (the steps of a split, merge or move saga) to a KV state machine's
 * ownership and records, and reads the pages a saga exports from a frozen span. Deterministic like
 * the rest of the state machine: the same command on the same state gives the same state.
 */
import { assert } from "../shared/assert.ts";
import { rangeInstallBytesMax, rangeInstallEntriesMax } from "../shared/limits.ts";
import type { InstalledSession, RangeChange } from "./command.ts";
import { compareKeys, keySuccessor, laterKey } from "./key-order.ts";
import * as ownershipSteps from "./ownership.ts";
import type { RangeOwnership } from "./ownership.ts";
import { dropTxnState, installTxnState, txnItemsIn, txnPageJson, type SpanTxnItem } from "./range-txn.ts";
import type { ApplyResult } from "./result.ts";
import type { SessionEntry } from "./sessions.ts";
import { positionOf, spanContains, type Span } from "./span.ts";
import type { KvEntry, KvStore } from "./store.ts";
import type { TxnStateJson, TxnTable } from "./txn-state.ts";

/** What range commands may touch in the state machine that applies them. */
export interface RangeTarget {
  readonly store: KvStore;
  ownership: RangeOwnership | undefined;
  /** Raises the version counter to at least `floor`. */
  raiseVersionCounter(floor: number): void;
  /** Takes the sessions of a source group, keeping per client the later of the two. */
  mergeSessions(sessions: readonly InstalledSession[]): void;
  /** The intents and transaction records kept here: they travel with their span (range-txn.ts). */
  readonly txns: TxnTable;
}

/** One page of a frozen span, as a saga carries it from the source to the target. */
export interface ExportPage {
  readonly records: KvEntry[];
  /** Pass back to read the next page; absent on the last page. */
  readonly cursor?: string;
  /** The source's version counter: every exported version is at most this. */
  readonly versionFloor: number;
  /** The source's client sessions (first page only, most recently used last, at most rangeInstallEntriesMax). */
  readonly sessions: InstalledSession[];
  /** The intents and transaction records at this page's keys (and, on the first page, the ended transactions); absent when none. */
  readonly txn?: TxnStateJson;
}

/** How many records deleteSpan reads at a time. */
const deletePageLength = 1024;

/** Applies one range change; the result is what the saga driver sees. */
export function applyRangeChange(target: RangeTarget, change: RangeChange): ApplyResult {
  const current = target.ownership;
  if (change.action === "init") {
    if (current === undefined) target.ownership = ownershipSteps.initialOwnership(change.mode, change.spans);
    return applied(target.ownership!);
  }
  if (current === undefined) return { ok: false, code: "rangeRefused", reason: "this group has no ranges to change" };
  switch (change.action) {
    case "freeze":
      // Intents and transaction records in the span travel with it; while frozen, no command changes them.
      return settle(target, ownershipSteps.freeze(current, change.saga, change.span));
    case "unfreeze":
      return settle(target, ownershipSteps.unfreeze(current, change.saga));
    case "install":
      return install(target, current, change);
    case "abortInstall": {
      const span = ownershipSteps.incomingSpanOf(current, change.saga);
      if (span !== undefined) {
        deleteSpan(target.store, current, span);
        dropTxnState(target.txns, current.mode, span);
      }
      return settle(target, ownershipSteps.abortInstall(current, change.saga));
    }
    case "acquire":
      return settle(target, ownershipSteps.acquire(current, change.saga, change.span));
    case "release": {
      const step = ownershipSteps.release(current, change.saga, change.span, change.to);
      if (step.ok && step.ownership !== current) {
        deleteSpan(target.store, current, change.span);
        dropTxnState(target.txns, current.mode, change.span);
      }
      return settle(target, step);
    }
  }
}

/**
 * Reads one page of `span`, which `saga` must have frozen here; undefined when it has not. A page
 * walks the span's records, intents and transaction records together in key order and takes all the
 * state of a key or none of it, so it ends between two keys and the cursor always advances.
 */
export function exportPage(store: KvStore, ownership: RangeOwnership | undefined, saga: string, span: Span, cursor: string | undefined, context: { versionCounter: number; sessions: readonly SessionEntry[]; txns: TxnTable }): ExportPage | undefined {
  if (ownership === undefined || !ownership.frozen.some((frozen) => frozen.saga === saga && frozen.span.start === span.start && frozen.span.end === span.end)) return undefined;
  const records: KvEntry[] = [];
  const items: SpanTxnItem[] = [];
  const pending = txnItemsIn(context.txns, ownership.mode, span, cursor);
  const stored = recordsIn(store, ownership, span, cursor);
  let record = stored.next();
  let itemIndex = 0;
  let entries = 0;
  let bytes = 0;
  let next: string | undefined;
  for (;;) {
    const key = earliest(record.done === true ? undefined : record.value.key, pending[itemIndex]?.key);
    if (key === undefined) break;
    const keyRecord = record.done !== true && record.value.key === key ? record.value : undefined;
    let keyItems = 0;
    let keyBytes = keyRecord?.value.length ?? 0;
    while (pending[itemIndex + keyItems]?.key === key) keyBytes += pending[itemIndex + keyItems++]!.bytes;
    const keyEntries = keyItems + (keyRecord === undefined ? 0 : 1);
    if (entries > 0 && (entries + keyEntries > rangeInstallEntriesMax || bytes + keyBytes > rangeInstallBytesMax)) {
      next = key;
      break;
    }
    if (keyRecord !== undefined) {
      records.push(keyRecord);
      record = stored.next();
    }
    items.push(...pending.slice(itemIndex, itemIndex + keyItems));
    itemIndex += keyItems;
    entries += keyEntries;
    bytes += keyBytes;
  }
  assert(records.length <= rangeInstallEntriesMax, "an install page holds at most rangeInstallEntriesMax records");
  const first = cursor === undefined;
  const sessions = first ? context.sessions.slice(-rangeInstallEntriesMax).map(({ clientId, lastSeq, result }) => ({ clientId, lastSeq, result })) : [];
  const txn = txnPageJson(items, first ? context.txns.ended : undefined);
  return { records, versionFloor: context.versionCounter, sessions, ...(txn === undefined ? {} : { txn }), ...(next === undefined ? {} : { cursor: next }) };
}

/** The middle key of the records `ownership` serves (all records when undefined); undefined with fewer than two. */
export function medianServedKey(store: KvStore, ownership: RangeOwnership | undefined): string | undefined {
  const served = (key: string) => ownership === undefined || ownership.spans.some((span) => spanContains(span, positionOf(ownership.mode, key)));
  const keys = Array.from(recordsIn(store, ownership ?? everything, { start: "" }, undefined), (record) => record.key).filter(served);
  return keys.length < 2 ? undefined : keys[Math.floor(keys.length / 2)];
}

/** The ownership of a group that was never given ranges: it serves every key. */
const everything: RangeOwnership = { mode: "range", epoch: 1, spans: [{ start: "" }], frozen: [], incoming: [], departed: [], ended: [] };

function install(target: RangeTarget, current: RangeOwnership, change: Extract<RangeChange, { action: "install" }>): ApplyResult {
  const step = ownershipSteps.beginInstall(current, change.saga, change.span);
  if (!step.ok) return { ok: false, code: "rangeRefused", reason: step.reason };
  if (step.alreadyAcquired === true) return applied(current);
  for (const record of change.records) {
    if (!spanContains(change.span, positionOf(current.mode, record.key))) return { ok: false, code: "rangeRefused", reason: "an installed record lies outside the span" };
  }
  const refusal = installTxnState(target.txns, current.mode, change.span, change.txn, change.versionFloor);
  if (refusal !== undefined) return { ok: false, code: "rangeRefused", reason: refusal };
  target.ownership = step.ownership;
  target.raiseVersionCounter(change.versionFloor);
  for (const record of change.records) target.store.set(record.key, { value: record.value, version: record.version });
  target.mergeSessions(change.sessions);
  return applied(step.ownership);
}

/** Every record stored under `span` from `cursor` on, in key order (hash mode: filtered by slot). */
function* recordsIn(store: KvStore, ownership: RangeOwnership, span: Span, cursor: string | undefined): Generator<KvEntry> {
  const byKey = ownership.mode === "range";
  let start = byKey ? laterKey(span.start, cursor) : cursor;
  for (;;) {
    const range = byKey ? { start: start!, ...(span.end === undefined ? {} : { end: span.end }) } : start === undefined ? {} : { start };
    const page = store.scan(range, deletePageLength);
    for (const record of page) {
      if (byKey || spanContains(span, positionOf(ownership.mode, record.key))) yield record;
    }
    const last = page[page.length - 1];
    if (page.length < deletePageLength || last === undefined) return;
    start = keySuccessor(last.key);
  }
}

/** The smaller of two keys in key order; undefined when both are. */
function earliest(left: string | undefined, right: string | undefined): string | undefined {
  if (left === undefined || right === undefined) return left ?? right;
  return compareKeys(left, right) <= 0 ? left : right;
}

function deleteSpan(store: KvStore, ownership: RangeOwnership, span: Span): void {
  const keys = Array.from(recordsIn(store, ownership, span, undefined), (record) => record.key);
  for (const key of keys) store.delete(key);
}

function settle(target: RangeTarget, step: ownershipSteps.OwnershipStep): ApplyResult {
  if (!step.ok) return { ok: false, code: "rangeRefused", reason: step.reason };
  ownershipSteps.assertOwnership(step.ownership);
  target.ownership = step.ownership;
  return applied(step.ownership);
}

function applied(ownership: RangeOwnership): ApplyResult {
  assert(ownership.epoch >= 1, "an applied range change leaves an epoch");
  return { ok: true, type: "range", epoch: ownership.epoch };
}
