/**
 * Proves the memory store meets the KvStore port (by running the conformance suite against it) and
 * that its chunked sorted index stays correct through chunk splits and merges and stays fast at
 * 100k keys, by seeded random workloads checked against a plain sorted array.
 */
import { describe, expect, it } from "vitest";
import { compareKeys } from "../../src/kv/key-order.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import { SortedKeys } from "../../src/kv/sorted-keys.ts";
import { createRng } from "../../src/shared/rng.ts";
import { kvStoreConformance } from "./kv-store-conformance.ts";

kvStoreConformance("MemoryKvStore", (body) => body(() => new MemoryKvStore()));

describe("SortedKeys", () => {
  it("agrees with a sorted array through 60k random inserts and removes that split and merge chunks", () => {
    const rng = createRng(7);
    const index = new SortedKeys();
    const reference = new Set<string>();
    for (let step = 0; step < 60_000; step++) {
      // Grow for the first half, shrink for the second, so chunks both split and merge.
      const growing = step < 30_000 ? rng.chance(0.8) : rng.chance(0.2);
      const key = `k${rng.int(8_000)}`;
      if (growing) expect(index.insert(key)).toBe(!reference.has(key));
      else expect(index.remove(key)).toBe(reference.has(key));
      if (growing) reference.add(key);
      else reference.delete(key);
      if (step % 5_000 === 0) expect([...index.from(undefined)]).toEqual([...reference].sort(compareKeys));
    }
    const sorted = [...reference].sort(compareKeys);
    expect(index.length).toBe(reference.size);
    expect([...index.from(undefined)]).toEqual(sorted);
    for (const start of ["", "k3", "k5000", "k9", "l"]) {
      expect([...index.from(start)]).toEqual(sorted.filter((key) => compareKeys(key, start) >= 0));
    }
  });

  it("iterates nothing when empty and after removing every key", () => {
    const index = new SortedKeys();
    expect([...index.from(undefined)]).toEqual([]);
    expect(index.remove("a")).toBe(false);
    for (let key = 0; key < 3_000; key++) index.insert(String(key));
    for (let key = 0; key < 3_000; key++) expect(index.remove(String(key))).toBe(true);
    expect(index.length).toBe(0);
    expect([...index.from("1")]).toEqual([]);
  });
});

describe("MemoryKvStore at 100k keys", () => {
  it("loads 100k keys in random order and serves 2,000 ranged scans quickly", () => {
    const rng = createRng(11);
    const store = new MemoryKvStore();
    const value = new Uint8Array(16);
    const started = performance.now();
    for (let loaded = 0; loaded < 100_000; loaded++) {
      store.set(`user/${rng.int(1_000_000_000).toString(36)}/${loaded}`, { value, version: loaded + 1 });
    }
    let scanned = 0;
    let misordered = 0;
    for (let scan = 0; scan < 2_000; scan++) {
      const keys = store.scan({ start: `user/${rng.int(1_000_000_000).toString(36)}` }, 100).map((entry) => entry.key);
      for (let index = 1; index < keys.length; index++) {
        if (compareKeys(keys[index - 1] as string, keys[index] as string) >= 0) misordered += 1;
      }
      scanned += keys.length;
    }
    const elapsedMs = performance.now() - started;
    expect(misordered).toBe(0);
    expect(store.count()).toBe(100_000);
    expect(scanned).toBeGreaterThan(100_000);
    // Generous bound (about 10x the figure on a 2-core machine): catches an accidental O(n) per operation.
    expect(elapsedMs).toBeLessThan(10_000);
  });
});
