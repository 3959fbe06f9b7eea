/** The in-memory KvStore: a Map for point lookups beside a SortedKeys index for ordered scans. */
import { assert, assertIndex } from "../shared/assert.ts";
import { keyIsPastRange, scanLowerBoundOf } from "./store.ts";
import type { KvEntry, KvRecord, KvStore, ScanRange } from "./store.ts";
import { SortedKeys } from "./sorted-keys.ts";

/** KvStore held in memory. Invariant: the map and the sorted index hold exactly the same keys. */
export class MemoryKvStore implements KvStore {
  private readonly records = new Map<string, KvRecord>();
  private readonly keys = new SortedKeys();

  /** The record at `key` (a copy), or undefined when absent. */
  get(key: string): KvRecord | undefined {
    const record = this.records.get(key);
    return record === undefined ? undefined : copyRecord(record);
  }

  /** Stores a copy of `record` at `key`. */
  set(key: string, record: KvRecord): void {
    assertIndex(record.version, "record version");
    if (!this.records.has(key)) this.keys.insert(key);
    this.records.set(key, copyRecord(record));
    assert(this.records.size === this.keys.length, "memory store: map and index agree after set");
  }

  /** Removes the record at `key`; true when there was one. */
  delete(key: string): boolean {
    if (!this.records.delete(key)) return false;
    this.keys.remove(key);
    assert(this.records.size === this.keys.length, "memory store: map and index agree after delete");
    return true;
  }

  /** At most `limit` records within `range`, in ascending key order (copies). */
  scan(range: ScanRange, limit: number): KvEntry[] {
    assert(Number.isSafeInteger(limit) && limit > 0, "scan limit is a positive safe integer");
    const entries: KvEntry[] = [];
    for (const key of this.keys.from(scanLowerBoundOf(range))) {
      if (keyIsPastRange(key, range)) break;
      const record = this.records.get(key);
      assert(record !== undefined, "memory store: every indexed key has a record");
      entries.push({ key, value: record.value.slice(), version: record.version });
      if (entries.length === limit) break;
    }
    return entries;
  }

  /** How many records the store holds. */
  count(): number {
    return this.records.size;
  }

  /** Removes every record. */
  clear(): void {
    this.records.clear();
    this.keys.clear();
  }
}

function copyRecord(record: KvRecord): KvRecord {
  return { value: record.value.slice(), version: record.version };
}
