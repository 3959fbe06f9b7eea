/**
 * The storage port of the KV state machine: a small ordered map from key to versioned value.
 * The memory store implements it here; a host implements it again on SQLite and proves it with
 * the same conformance suite (test/kv/kv-store-conformance.ts).
 */
import { compareKeys, laterKey } from "./key-order.ts";

/** A stored value and the version of the write that produced it (a positive safe integer). */
export interface KvRecord {
  readonly value: Uint8Array;
  readonly version: number;
}

/** A record together with its key, as scans return it. */
export interface KvEntry extends KvRecord {
  readonly key: string;
}

/**
 * Which keys a scan visits: `start` inclusive, `end` exclusive, and only keys that begin with
 * `prefix`; every bound is optional and the bounds intersect. Bounds are well-formed strings.
 */
export interface ScanRange {
  readonly start?: string;
  readonly end?: string;
  readonly prefix?: string;
}

/**
 * Storage port. Keys are ordered by their UTF-8 bytes (see compareKeys). The store copies values in
 * and out, so neither side can change the other's bytes. All methods are synchronous: a host wraps
 * one `apply` in one storage transaction.
 */
export interface KvStore {
  /** The record at `key`, or undefined when absent. */
  get(key: string): KvRecord | undefined;
  /** Stores `record` at `key`, replacing any record there. */
  set(key: string, record: KvRecord): void;
  /** Removes the record at `key`; true when there was one. */
  delete(key: string): boolean;
  /** At most `limit` records within `range`, in ascending key order. */
  scan(range: ScanRange, limit: number): KvEntry[];
  /** How many records the store holds. */
  count(): number;
  /** Removes every record. */
  clear(): void;
}

/** The smallest key a scan of `range` may return (the later of start and prefix), or undefined for "from the first key". */
export function scanLowerBoundOf(range: ScanRange): string | undefined {
  return laterKey(range.start, range.prefix);
}

/**
 * True when `key`, reached by walking upward from the range's lower bound, lies past the range:
 * at or after `end`, or no longer under `prefix` (keys under a prefix are contiguous in key order).
 */
export function keyIsPastRange(key: string, range: ScanRange): boolean {
  if (range.end !== undefined && compareKeys(key, range.end) >= 0) return true;
  return range.prefix !== undefined && !key.startsWith(range.prefix);
}
