/**
 * The transaction state a group keeps beside its records: intents on its keys, the records of the
 * transactions it coordinates, and the transactions that ended here. Replicated state (changed only
 * by applying commands), persisted in the state machine's meta bytes and in its snapshots as JSON.
 */
import { decodeBase64, encodeBase64 } from "../shared/base64.ts";
import { endedTxnsMax, intentsMax, intentValueBytesMax, txnRecordsMax } from "../shared/limits.ts";
import { assert } from "../shared/assert.ts";
import { isJsonObject } from "./binary.ts";
import { keyProblemOf } from "./key-order.ts";

/** The write an intent holds back, with the version it reserved at prepare. */
export type IntentWrite = { readonly type: "put"; readonly value: Uint8Array; readonly version: number } | { readonly type: "delete"; readonly version: number };

/** A transaction's lock on one key until it resolves; `write` absent = a read or check lock. */
export interface Intent {
  readonly txn: string;
  readonly recordKey: string;
  readonly deadlineMs: number;
  readonly write?: IntentWrite;
}

/** Where a transaction stands; decided exactly once. */
export type TxnStatus = "pending" | "committed" | "aborted";

/** A transaction record in its coordinator group, which serves `recordKey`. `keys`: what it locks (empty for a tombstone a push wrote). */
export interface TxnRecord {
  readonly recordKey: string;
  readonly status: TxnStatus;
  readonly deadlineMs: number;
  readonly keys: readonly string[];
}

/** An intent as the sweep and readers see it. */
export interface IntentView {
  readonly key: string;
  readonly txn: string;
  readonly recordKey: string;
  readonly deadlineMs: number;
}

/** The mutable transaction state of one state machine. Invariant: intentValueBytes is the sum of put intents' value lengths. */
export class TxnTable {
  /** key -> intent; at most intentsMax. */
  readonly intents = new Map<string, Intent>();
  /** txn id -> record; at most txnRecordsMax. */
  readonly records = new Map<string, TxnRecord>();
  /** txn id -> committed, for transactions resolved here; oldest first, at most endedTxnsMax. */
  readonly ended = new Map<string, boolean>();
  private intentValueBytesValue = 0;

  /** Sum of the value bytes that put intents hold. */
  get intentValueBytes(): number {
    return this.intentValueBytesValue;
  }

  /** Whether the group holds intents or records (then its host keeps a sweep alarm). */
  get busy(): boolean {
    return this.intents.size > 0 || this.records.size > 0;
  }

  /** Whether `count` more intents holding `bytes` value bytes fit. */
  fits(count: number, bytes: number): boolean {
    return this.intents.size + count <= intentsMax && this.intentValueBytesValue + bytes <= intentValueBytesMax;
  }

  /** Lays `intent` on `key` (which holds none of another transaction). */
  lay(key: string, intent: Intent): void {
    const previous = this.intents.get(key);
    assert(previous === undefined || previous.txn === intent.txn, "an intent never replaces another transaction's");
    this.drop(key);
    this.intents.set(key, intent);
    this.intentValueBytesValue += intent.write?.type === "put" ? intent.write.value.length : 0;
  }

  /** Removes the intent on `key`, if any. */
  drop(key: string): void {
    const intent = this.intents.get(key);
    if (intent === undefined) return;
    this.intents.delete(key);
    this.intentValueBytesValue -= intent.write?.type === "put" ? intent.write.value.length : 0;
    assert(this.intentValueBytesValue >= 0, "intent bytes never go negative");
  }

  /** Every key `txn` holds an intent on here, in key insertion order. */
  keysOf(txn: string): string[] {
    const keys: string[] = [];
    for (const [key, intent] of this.intents) if (intent.txn === txn) keys.push(key);
    return keys;
  }

  /** Remembers that `txn` ended here. */
  end(txn: string, committed: boolean): void {
    this.ended.delete(txn);
    this.ended.set(txn, committed);
    while (this.ended.size > endedTxnsMax) this.ended.delete(this.ended.keys().next().value as string);
  }

  /** Replaces the whole state with `other`'s. */
  replaceWith(other: TxnTable): void {
    this.intents.clear();
    this.records.clear();
    this.ended.clear();
    this.intentValueBytesValue = 0;
    for (const [key, intent] of other.intents) this.lay(key, intent);
    for (const [txn, record] of other.records) this.records.set(txn, record);
    for (const [txn, committed] of other.ended) this.ended.set(txn, committed);
  }

  /** Every intent, one per transaction per key, for a sweep or a test. */
  intentViews(): IntentView[] {
    return Array.from(this.intents, ([key, intent]) => ({ key, txn: intent.txn, recordKey: intent.recordKey, deadlineMs: intent.deadlineMs }));
  }

  /** The state as JSON-safe data; undefined when empty (so states without transactions encode as before). */
  toJson(): TxnStateJson | undefined {
    if (this.intents.size === 0 && this.records.size === 0 && this.ended.size === 0) return undefined;
    return {
      intents: Array.from(this.intents, ([key, intent]) => [key, intent.txn, intent.recordKey, intent.deadlineMs, ...writeJsonOf(intent.write)]),
      records: Array.from(this.records, ([txn, record]) => [txn, record.status, record.deadlineMs, [...record.keys], record.recordKey]),
      ended: Array.from(this.ended, ([txn, committed]) => [txn, committed]),
    };
  }

  /** Reads toJson() output back; a string says why `raw` is malformed. `versionCounter` bounds reserved versions. */
  static fromJson(raw: unknown, versionCounter: number): TxnTable | string {
    const table = new TxnTable();
    if (raw === undefined) return table;
    if (!isJsonObject(raw) || !Array.isArray(raw.intents) || !Array.isArray(raw.records) || !Array.isArray(raw.ended)) return "txn state must hold intents, records and ended arrays";
    for (const row of raw.intents as unknown[]) {
      const intent = intentOf(row, versionCounter);
      if (typeof intent === "string") return intent;
      if (table.intents.has(intent[0])) return "two intents on one key";
      table.lay(intent[0], intent[1]);
    }
    for (const row of raw.records as unknown[]) {
      if (!Array.isArray(row) || row.length !== 5) return "a txn record must be [txn, status, deadlineMs, keys, recordKey]";
      const [txn, status, deadlineMs, keys, recordKey] = row as unknown[];
      if (keyProblemOf(recordKey) !== undefined) return "a txn record's key is malformed";
      if (typeof txn !== "string" || (status !== "pending" && status !== "committed" && status !== "aborted") || !isCount(deadlineMs)) return "a txn record is malformed";
      if (!Array.isArray(keys) || keys.some((key) => keyProblemOf(key) !== undefined)) return "a txn record's keys are malformed";
      table.records.set(txn, { recordKey: recordKey as string, status, deadlineMs, keys: keys as string[] });
    }
    for (const row of raw.ended as unknown[]) {
      if (!Array.isArray(row) || typeof row[0] !== "string" || typeof row[1] !== "boolean") return "an ended txn must be [txn, committed]";
      table.ended.set(row[0], row[1]);
    }
    if (table.intents.size > intentsMax || table.records.size > txnRecordsMax || table.ended.size > endedTxnsMax) return "txn state exceeds its limits";
    return table;
  }
}

/** The JSON form of a TxnTable. */
export interface TxnStateJson {
  readonly intents: readonly unknown[][];
  readonly records: readonly unknown[][];
  readonly ended: readonly unknown[][];
}

function writeJsonOf(write: IntentWrite | undefined): unknown[] {
  if (write === undefined) return [];
  return write.type === "put" ? ["put", write.version, encodeBase64(write.value)] : ["delete", write.version];
}

function intentOf(row: unknown, versionCounter: number): [string, Intent] | string {
  if (!Array.isArray(row) || row.length < 4 || row.length > 7) return "an intent must be [key, txn, recordKey, deadlineMs, write...]";
  const [key, txn, recordKey, deadlineMs, type, version, valueBase64] = row as unknown[];
  if (keyProblemOf(key) !== undefined || typeof txn !== "string" || keyProblemOf(recordKey) !== undefined || !isCount(deadlineMs)) return "an intent is malformed";
  const base = { txn, recordKey: recordKey as string, deadlineMs };
  if (type === undefined) return [key as string, base];
  if (!isCount(version) || version < 1 || version > versionCounter) return "an intent's reserved version is outside 1..versionCounter";
  if (type === "delete") return [key as string, { ...base, write: { type: "delete", version } }];
  const value = type === "put" && typeof valueBase64 === "string" ? decodeBase64(valueBase64) : undefined;
  if (value === undefined) return "an intent's write is malformed";
  return [key as string, { ...base, write: { type: "put", value, version } }];
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
