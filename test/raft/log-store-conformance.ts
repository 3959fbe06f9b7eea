/**
 * The conformance suite every LogStore implementation must pass (memory, SQLite on Durable
 * Objects, node:sqlite on Deno): call logStoreConformance(name, factory) from a test file.
 * `reopen` models a restart: it must return a store over the same durable data.
 */
import { describe, expect, it } from "vitest";
import { bootstrapWrite, type LogStore } from "../../src/raft/storage.ts";
import type { Entry } from "../../src/raft/types.ts";

/** Creates stores for one test: `create` gives an empty store, `reopen` a new handle on the same durable data. */
export interface LogStoreFactory {
  create(): LogStore;
  reopen(store: LogStore): LogStore;
}

/** Runs one test body with a factory (inside a Durable Object for SQLite; directly for memory). */
export type LogStoreRunner = (body: (factory: LogStoreFactory) => void) => void | Promise<void>;

const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: "normal",
  data: new TextEncoder().encode(text),
});

/** Registers the LogStore conformance tests for one implementation. */
export function logStoreConformance(name: string, run: LogStoreRunner): void {
  describe(`LogStore conformance: ${name}`, () => {
    it("starts empty: no entries, snapshot at 0, zero hard state", () =>
      run((factory) => {
        const store = factory.create();
        expect(store.firstIndex()).toBe(1);
        expect(store.lastIndex()).toBe(0);
        expect(store.term(0)).toBe(0);
        expect(store.term(1)).toBeNull();
        expect(store.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
      }));

    it("stores the bootstrap write and reports its configuration entry", () =>
      run((factory) => {
        const store = factory.create();
        store.save(bootstrapWrite({ voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }));
        expect(store.lastIndex()).toBe(1);
        expect(store.entries(1, 2, 1e9)[0]!.type).toBe("confChange");
        expect(store.initialState().hardState).toEqual({ term: 1, vote: 0, commit: 1 });
      }));

    it("appends entries and hard state atomically and reads them back byte for byte", () =>
      run((factory) => {
        const store = factory.create();
        store.save({ hardState: { term: 2, vote: 3, commit: 1 }, entries: [entry(1, 1), entry(2, 2), entry(3, 2)], snapshot: null });
        expect(store.lastIndex()).toBe(3);
        expect(store.term(2)).toBe(2);
        const read = store.entries(1, 4, 1e9);
        expect(read.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)])).toEqual([[1, 1, "e1"], [2, 2, "e2"], [3, 2, "e3"]]);
        expect(store.initialState().hardState).toEqual({ term: 2, vote: 3, commit: 1 });
      }));

    it("truncates a conflicting suffix when entries overwrite it", () =>
      run((factory) => {
        const store = factory.create();
        store.save({ hardState: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)], snapshot: null });
        store.save({ hardState: null, entries: [entry(3, 2, "new3")], snapshot: null });
        expect(store.lastIndex()).toBe(3);
        expect(store.term(3)).toBe(2);
        expect(new TextDecoder().decode(store.entries(3, 4, 1e9)[0]!.data)).toBe("new3");
        expect(store.term(4)).toBeNull();
      }));

    it("limits entries by bytes but always returns at least one", () =>
      run((factory) => {
        const store = factory.create();
        const large = Array.from({ length: 10 }, (_, i) => ({ ...entry(i + 1, 1), data: new Uint8Array(100).fill(i) }));
        store.save({ hardState: null, entries: large, snapshot: null });
        expect(store.entries(1, 11, 1).length).toBe(1);
        const some = store.entries(1, 11, 350);
        expect(some.length).toBeGreaterThanOrEqual(2);
        expect(some.length).toBeLessThan(10);
        expect([...some[1]!.data.subarray(0, 3)]).toEqual([1, 1, 1]);
      }));

    it("compacts up to a snapshot and keeps the rest", () =>
      run((factory) => {
        const store = factory.create();
        store.save({ hardState: { term: 1, vote: 0, commit: 5 }, entries: [1, 2, 3, 4, 5, 6].map((i) => entry(i, 1)), snapshot: null });
        const conf = { voters: [1, 2], votersOutgoing: [], learners: [3], learnersNext: [], autoLeave: false };
        store.compact({ meta: { index: 4, term: 1, conf }, data: new Uint8Array([9, 9]) });
        expect(store.firstIndex()).toBe(5);
        expect(store.lastIndex()).toBe(6);
        expect(store.term(4)).toBe(1);
        expect(store.term(3)).toBeNull();
        expect(store.snapshot().meta).toEqual({ index: 4, term: 1, conf });
        expect([...store.snapshot().data]).toEqual([9, 9]);
        expect(store.initialState().conf).toEqual(conf);
      }));

    it("installs a leader's snapshot, dropping a log that disagrees with it", () =>
      run((factory) => {
        const store = factory.create();
        store.save({ hardState: null, entries: [entry(1, 1), entry(2, 1)], snapshot: null });
        const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
        store.save({ hardState: { term: 3, vote: 0, commit: 10 }, entries: [], snapshot: { meta: { index: 10, term: 3, conf }, data: new Uint8Array([1]) } });
        expect(store.firstIndex()).toBe(11);
        expect(store.lastIndex()).toBe(10);
        expect(store.term(10)).toBe(3);
        store.save({ hardState: null, entries: [entry(11, 3)], snapshot: null });
        expect(store.lastIndex()).toBe(11);
      }));

    it("reads back what a long log holds, after overwrites and compaction, the same as a reopened store", () =>
      run((factory) => {
        // Longer than any in-memory tail a store may keep (SqliteLogStore keeps 4096 entries, and
        // up to 5120 between trims), so reads cross from whatever is cached into what is only on disk.
        const store = factory.create();
        const batch = (from: number, count: number, term: number) => Array.from({ length: count }, (_, i) => entry(from + i, term, `t${term}-${from + i}`));
        for (let from = 1; from <= 6000; from += 500) store.save({ hardState: null, entries: batch(from, 500, 1), snapshot: null });
        store.save({ hardState: null, entries: batch(5801, 50, 2), snapshot: null }); // overwrites 5801..6000
        const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
        store.compact({ meta: { index: 1000, term: 1, conf }, data: new Uint8Array([1]) });
        const again = factory.reopen(store);
        const show = (s: LogStore, low: number, high: number) => s.entries(low, high, 1e9).map((e) => `${e.index}:${e.term}:${new TextDecoder().decode(e.data)}`);
        for (const s of [store, again]) {
          expect(s.firstIndex()).toBe(1001);
          expect(s.lastIndex()).toBe(5850);
          expect(s.term(1000)).toBe(1);
          expect(s.term(999)).toBeNull();
          expect(s.term(5800)).toBe(1);
          expect(s.term(5801)).toBe(2);
          expect(s.term(5851)).toBeNull();
          expect(show(s, 5799, 5802)).toEqual(["5799:1:t1-5799", "5800:1:t1-5800", "5801:2:t2-5801"]);
        }
        expect(show(store, 1001, 5851)).toEqual(show(again, 1001, 5851));
        expect(store.entries(1001, 5851, 1e9)).toHaveLength(4850);
        store.save({ hardState: null, entries: batch(5851, 1, 3), snapshot: null });
        expect(show(store, 5850, 5852)).toEqual(["5850:2:t2-5850", "5851:3:t3-5851"]);
      }));

    it("reads back a log appended one entry at a time well past any in-memory tail", () =>
      run((factory) => {
        const store = factory.create();
        // Terms change every 5,000 entries, and the last change (at 10,000) falls inside any tail a
        // store keeps, so a cached read off by one index shows as a wrong term or a wrong entry.
        for (let index = 1; index <= 12_000; index++) store.save({ hardState: null, entries: [entry(index, 1 + Math.floor(index / 5000), `e${index}`)], snapshot: null });
        const again = factory.reopen(store);
        const texts = (s: LogStore, low: number, high: number) => s.entries(low, high, 1e9).map((e) => new TextDecoder().decode(e.data));
        const expected = (low: number, high: number) => Array.from({ length: high - low }, (_, i) => `e${low + i}`);
        for (const s of [store, again]) {
          for (const index of [1, 4999, 5000, 6879, 6880, 9999, 10_000, 10_001, 11_999, 12_000]) expect(s.term(index)).toBe(1 + Math.floor(index / 5000));
          for (const [low, high] of [[6870, 6890], [6800, 7400], [9990, 10_010], [11_990, 12_001]] as const) expect(texts(s, low, high)).toEqual(expected(low, high));
          expect(texts(s, 1, 12_001)).toEqual(expected(1, 12_001));
        }
      }));

    it("keeps everything across a reopen", () =>
      run((factory) => {
        const store = factory.create();
        store.save({ hardState: { term: 4, vote: 2, commit: 3 }, entries: [1, 2, 3, 4].map((i) => entry(i, 4)), snapshot: null });
        const conf = { voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
        store.compact({ meta: { index: 2, term: 4, conf }, data: new Uint8Array([5]) });
        const again = factory.reopen(store);
        expect(again.initialState()).toEqual({ hardState: { term: 4, vote: 2, commit: 3 }, conf });
        expect(again.firstIndex()).toBe(3);
        expect(again.lastIndex()).toBe(4);
        expect(again.entries(3, 5, 1e9).map((e) => e.index)).toEqual([3, 4]);
        expect([...again.snapshot().data]).toEqual([5]);
      }));
  });
}
