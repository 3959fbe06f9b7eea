/**
 * A sorted set of keys kept as a list of short sorted chunks (a one-level B-tree). Insert and
 * remove cost a binary search plus a splice of one chunk, so 100k keys stay cheap to maintain in
 * any write order, and a scan starts with two binary searches.
 */
import { assert } from "../shared/assert.ts";
import { compareKeys } from "./key-order.ts";

/** A chunk that grows to this many keys splits in two. */
const chunkSplitLength = 1024;
/** Two neighbouring chunks whose sum falls to this many keys merge into one. */
const chunkMergeLength = chunkSplitLength / 4;

/** Ordered set of keys under compareKeys. Invariant: no chunk is empty; chunks ascend and do not overlap. */
export class SortedKeys {
  private chunks: string[][] = [];
  private size = 0;

  /** How many keys the set holds. */
  get length(): number {
    return this.size;
  }

  /** Adds `key`; false when it was already present. */
  insert(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.size = 1;
      return true;
    }
    const chunkIndex = Math.min(this.chunkIndexOf(key), this.chunks.length - 1);
    const chunk = this.chunkAt(chunkIndex);
    const position = lowerBound(chunk, key);
    if (chunk[position] === key) return false;
    chunk.splice(position, 0, key);
    this.size += 1;
    if (chunk.length >= chunkSplitLength) {
      this.chunks.splice(chunkIndex + 1, 0, chunk.splice(chunk.length >>> 1));
    }
    return true;
  }

  /** Removes `key`; false when it was absent. */
  remove(key: string): boolean {
    const chunkIndex = this.chunkIndexOf(key);
    if (chunkIndex === this.chunks.length) return false;
    const chunk = this.chunkAt(chunkIndex);
    const position = lowerBound(chunk, key);
    if (chunk[position] !== key) return false;
    chunk.splice(position, 1);
    this.size -= 1;
    if (chunk.length === 0) {
      this.chunks.splice(chunkIndex, 1);
    } else if (chunkIndex + 1 < this.chunks.length) {
      const next = this.chunkAt(chunkIndex + 1);
      if (chunk.length + next.length <= chunkMergeLength) {
        chunk.push(...next);
        this.chunks.splice(chunkIndex + 1, 1);
      }
    }
    return true;
  }

  /** Removes every key. */
  clear(): void {
    this.chunks = [];
    this.size = 0;
  }

  /** Keys in ascending order, starting at the first key not below `start` (or the first key). */
  *from(start: string | undefined): Generator<string, void, undefined> {
    let chunkIndex = start === undefined ? 0 : this.chunkIndexOf(start);
    if (chunkIndex === this.chunks.length) return;
    let position = start === undefined ? 0 : lowerBound(this.chunkAt(chunkIndex), start);
    for (; chunkIndex < this.chunks.length; chunkIndex++, position = 0) {
      const chunk = this.chunkAt(chunkIndex);
      for (; position < chunk.length; position++) yield chunk[position] as string;
    }
  }

  /** Index of the first chunk whose last key is not below `key`; chunks.length when there is none. */
  private chunkIndexOf(key: string): number {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const chunk = this.chunkAt(middle);
      if (compareKeys(chunk[chunk.length - 1] as string, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private chunkAt(chunkIndex: number): string[] {
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined && chunk.length > 0, "sorted keys: chunk exists and is not empty");
    return chunk;
  }
}

/** Position of the first key in the sorted `keys` that is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle] as string, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
