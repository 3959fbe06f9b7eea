/**
 * Conformance suite of the KvStore port: every implementation (memory here, SQLite in a host) runs
 * it through a few-line runner. It proves point reads and writes, value copying, and that scans
 * follow UTF-8 byte order and honour start, end, prefix and limit, by fixed cases and by a property
 * test that compares random operations against a sorted reference.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KvEntry, KvStore, ScanRange } from "../../src/kv/store.ts";
import { compareUtf8Bytes, pooledKey } from "./arbitraries.ts";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Runs one test body with `factory`, which returns a fresh, empty store per call (inside a Durable Object for SQLite). */
export type KvStoreRunner = (body: (factory: () => KvStore) => void) => void | Promise<void>;

/** Registers the KvStore conformance tests for the stores that `run` hands out. */
export function kvStoreConformance(name: string, run: KvStoreRunner): void {
  describe(`KvStore conformance: ${name}`, () => {
    it("get returns what set stored, and undefined for an absent key", () =>
      run((factory) => {
        const store = factory();
        expect(store.get("a")).toBeUndefined();
        store.set("a", { value: bytes(1, 2), version: 7 });
        expect(store.get("a")).toEqual({ value: bytes(1, 2), version: 7 });
        expect(store.get("b")).toBeUndefined();
      }));

    it("set replaces the record at a key and keeps one entry for it", () =>
      run((factory) => {
        const store = factory();
        store.set("a", { value: bytes(1), version: 1 });
        store.set("a", { value: bytes(2), version: 2 });
        expect(store.get("a")).toEqual({ value: bytes(2), version: 2 });
        expect(store.count()).toBe(1);
        expect(store.scan({}, 10)).toEqual([{ key: "a", value: bytes(2), version: 2 }]);
      }));

    it("delete removes the record and says whether there was one", () =>
      run((factory) => {
        const store = factory();
        store.set("a", { value: bytes(1), version: 1 });
        expect(store.delete("a")).toBe(true);
        expect(store.delete("a")).toBe(false);
        expect(store.get("a")).toBeUndefined();
        expect(store.scan({}, 10)).toEqual([]);
      }));

    it("count follows sets and deletes, and clear empties the store", () =>
      run((factory) => {
        const store = factory();
        for (const key of ["c", "a", "b"]) store.set(key, { value: bytes(), version: 1 });
        store.delete("a");
        expect(store.count()).toBe(2);
        store.clear();
        expect(store.count()).toBe(0);
        expect(store.scan({}, 10)).toEqual([]);
        store.set("a", { value: bytes(3), version: 4 });
        expect(store.scan({}, 10)).toEqual([{ key: "a", value: bytes(3), version: 4 }]);
      }));

    it("values are copied in and out, so callers cannot change stored bytes", () =>
      run((factory) => {
        const store = factory();
        const value = bytes(1, 2, 3);
        store.set("a", { value, version: 1 });
        value[0] = 9;
        const read = store.get("a");
        expect(read?.value).toEqual(bytes(1, 2, 3));
        read?.value.fill(8);
        store.scan({}, 1)[0]?.value.fill(7);
        expect(store.get("a")?.value).toEqual(bytes(1, 2, 3));
      }));

    it("stores empty values, values of every byte and keys from all of Unicode", () =>
      run((factory) => {
        const store = factory();
        const everyByte = Uint8Array.from({ length: 256 }, (_, index) => index);
        store.set("\u{1f600}/\u0000/\u00e9", { value: everyByte, version: 2 });
        store.set("empty", { value: bytes(), version: 3 });
        expect(store.get("\u{1f600}/\u0000/\u00e9")).toEqual({ value: everyByte, version: 2 });
        expect(store.get("empty")).toEqual({ value: bytes(), version: 3 });
      }));

    it("scan orders keys by UTF-8 bytes, which differs from UTF-16 order above U+FFFF", () =>
      run((factory) => {
        const store = factory();
        const keys = ["\uff61", "\u{1f600}", "b", "a\u0000", "a", "\u00e9", "ab"];
        for (const key of keys) store.set(key, { value: bytes(), version: 1 });
        expect(store.scan({}, 100).map((entry) => entry.key)).toEqual(["a", "a\u0000", "ab", "b", "\u00e9", "\uff61", "\u{1f600}"]);
      }));

    it("scan honours start (inclusive), end (exclusive), prefix, their intersection, and limit", () =>
      run((factory) => {
        const store = factory();
        for (const key of ["a", "b/1", "b/2", "b/3", "ba", "c"]) store.set(key, { value: bytes(), version: 1 });
        const keysOf = (range: ScanRange, limit = 100): string[] => store.scan(range, limit).map((entry) => entry.key);
        expect(keysOf({ start: "b/2" })).toEqual(["b/2", "b/3", "ba", "c"]);
        expect(keysOf({ end: "b/2" })).toEqual(["a", "b/1"]);
        expect(keysOf({ prefix: "b/" })).toEqual(["b/1", "b/2", "b/3"]);
        expect(keysOf({ prefix: "b/", start: "b/2", end: "b/3" })).toEqual(["b/2"]);
        expect(keysOf({ prefix: "b/", start: "a" })).toEqual(["b/1", "b/2", "b/3"]);
        expect(keysOf({ prefix: "b/", start: "bb" })).toEqual([]);
        expect(keysOf({ start: "c", end: "a" })).toEqual([]);
        expect(keysOf({ prefix: "x" })).toEqual([]);
        expect(keysOf({}, 2)).toEqual(["a", "b/1"]);
        expect(keysOf({ prefix: "b" }, 10)).toEqual(["b/1", "b/2", "b/3", "ba"]);
      }));

    it("random sets, deletes and scans agree with a sorted reference", () =>
      run((factory) => {
        const step = fc.oneof(
          fc.record({ type: fc.constant("set" as const), key: pooledKey, version: fc.integer({ min: 1, max: 99 }) }),
          fc.record({ type: fc.constant("delete" as const), key: pooledKey }),
          fc.record({
            type: fc.constant("scan" as const),
            range: fc.record({ start: pooledKey, end: pooledKey, prefix: fc.constantFrom("a", "b", "z/", "\u{1f600}") }, { requiredKeys: [] }),
            limit: fc.integer({ min: 1, max: 10 }),
          }),
        );
        fc.assert(
          fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
            const store = factory();
            const reference = new Map<string, number>();
            for (const current of steps) {
              if (current.type === "set") {
                store.set(current.key, { value: bytes(current.version), version: current.version });
                reference.set(current.key, current.version);
              } else if (current.type === "delete") {
                expect(store.delete(current.key)).toBe(reference.delete(current.key));
              } else {
                expect(store.scan(current.range, current.limit)).toEqual(referenceScan(reference, current.range, current.limit));
              }
              expect(store.count()).toBe(reference.size);
            }
          }),
        );
      }));
  });
}

function referenceScan(reference: Map<string, number>, range: ScanRange, limit: number): KvEntry[] {
  return [...reference.keys()]
    .filter((key) => range.start === undefined || compareUtf8Bytes(key, range.start) >= 0)
    .filter((key) => range.end === undefined || compareUtf8Bytes(key, range.end) < 0)
    .filter((key) => range.prefix === undefined || key.startsWith(range.prefix))
    .sort(compareUtf8Bytes)
    .slice(0, limit)
    .map((key) => ({ key, value: bytes(reference.get(key) as number), version: reference.get(key) as number }));
}
