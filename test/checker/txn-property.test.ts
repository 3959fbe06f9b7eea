/**
 * Proves with fast-check that the transaction checker accepts what a correct store produces and
 * catches each anomaly injected into it: random concurrent histories of a reference store (checks,
 * reads, puts, deletes, failed and indeterminate transactions) are strictly serializable, also
 * after a JSON Lines round trip; the same histories followed by a write skew, a lost update, an
 * aborted read, a fractured read or a stale read are rejected, each with its own anomaly class.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anomalyKinds, checkTxnHistory, describeTxnAnomalies, generateTxnHistory, parseTxnHistory, TxnHistoryRecorder, TxnReferenceStore } from "../../src/checker/index.ts";
import type { TxnReadResult, TxnRequest } from "../../src/checker/index.ts";
import { createRng } from "../../src/shared/rng.ts";

const processesCount = 5;
/** Two processes beyond the generated ones, for the injected transactions. */
const first = processesCount;
const second = processesCount + 1;

function generated(seed: number): { recorder: TxnHistoryRecorder; store: TxnReferenceStore } {
  const recorder = new TxnHistoryRecorder();
  const rng = createRng(seed);
  const store = generateTxnHistory({ rng, transactionsCount: 150, keysCount: 4, processesCount, infoProbability: 0.08, deleteProbability: 0.1 }, recorder);
  // Both keys exist, with values of a committed transaction, before anything is injected.
  const seedRequest: TxnRequest = { reads: [], checks: [], writes: [{ op: "put", key: "k0", value: "x-seed" }, { op: "put", key: "k1", value: "y-seed" }] };
  recorder.invoke(first, seedRequest);
  recorder.ok(first, store.apply(seedRequest)!);
  return { recorder, store };
}

function snapshot(store: TxnReferenceStore, keys: readonly string[]): TxnReadResult[] {
  return keys.map((key) => {
    const current = store.get(key)!;
    return { key, found: true, value: current.value, version: current.version };
  });
}

function write(store: TxnReferenceStore, writes: Record<string, string>): Record<string, number> {
  return store.apply({ reads: [], checks: [], writes: Object.entries(writes).map(([key, value]) => ({ op: "put" as const, key, value })) })!.versions;
}

/** Each injection appends transactions that no correct store could answer, and names the anomaly. */
const injections: Record<string, { kind: string; inject: (recorder: TxnHistoryRecorder, store: TxnReferenceStore) => void }> = {
  "write skew": {
    kind: "G2",
    inject: (recorder, store) => {
      const seen = snapshot(store, ["k0", "k1"]);
      recorder.invoke(first, { reads: ["k0", "k1"], checks: [], writes: [{ op: "put", key: "k0", value: "skew-x" }] });
      recorder.invoke(second, { reads: ["k0", "k1"], checks: [], writes: [{ op: "put", key: "k1", value: "skew-y" }] });
      recorder.ok(first, { reads: seen, versions: write(store, { k0: "skew-x" }) });
      recorder.ok(second, { reads: seen, versions: write(store, { k1: "skew-y" }) });
    },
  },
  "lost update": {
    kind: "G-single",
    inject: (recorder, store) => {
      const version = store.get("k0")!.version;
      recorder.invoke(first, { reads: [], checks: [{ key: "k0", version }], writes: [{ op: "put", key: "k0", value: "lost-1" }] });
      recorder.invoke(second, { reads: [], checks: [{ key: "k0", version }], writes: [{ op: "put", key: "k0", value: "lost-2" }] });
      recorder.ok(first, { reads: [], versions: write(store, { k0: "lost-1" }) });
      recorder.ok(second, { reads: [], versions: write(store, { k0: "lost-2" }) });
    },
  },
  "aborted read": {
    kind: "G1a",
    inject: (recorder, store) => {
      recorder.invoke(first, { reads: [], checks: [], writes: [{ op: "put", key: "k0", value: "aborted" }] });
      recorder.fail(first);
      write(store, { k0: "aborted" });
      recorder.invoke(second, { reads: ["k0"], checks: [], writes: [] });
      recorder.ok(second, { reads: snapshot(store, ["k0"]), versions: {} });
    },
  },
  "fractured read": {
    kind: "G-single",
    inject: (recorder, store) => {
      const before = snapshot(store, ["k1"]);
      recorder.invoke(first, { reads: [], checks: [], writes: [{ op: "put", key: "k0", value: "both-x" }, { op: "put", key: "k1", value: "both-y" }] });
      recorder.invoke(second, { reads: ["k0", "k1"], checks: [], writes: [] });
      recorder.ok(first, { reads: [], versions: write(store, { k0: "both-x", k1: "both-y" }) });
      recorder.ok(second, { reads: [...snapshot(store, ["k0"]), ...before], versions: {} });
    },
  },
  "stale read": {
    kind: "G-single-realtime",
    inject: (recorder, store) => {
      const before = snapshot(store, ["k0"]);
      recorder.invoke(first, { reads: [], checks: [], writes: [{ op: "put", key: "k0", value: "fresh" }] });
      recorder.ok(first, { reads: [], versions: write(store, { k0: "fresh" }) });
      recorder.invoke(second, { reads: ["k0"], checks: [], writes: [] });
      recorder.ok(second, { reads: before, versions: {} });
    },
  },
};

describe("properties of the transaction checker", () => {
  it("accepts every generated concurrent history of a correct store, also read back from JSON Lines", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const { recorder } = generated(seed);
        const operations = recorder.operations();
        const result = checkTxnHistory(operations);
        expect(describeTxnAnomalies(result, operations)).toEqual([]);
        expect(result.valid).toBe(true);
        expect(result.edgesCount.wr + result.edgesCount.rw).toBeGreaterThan(0);
        const parsed = parseTxnHistory(recorder.toJsonLines());
        expect(parsed.ok && parsed.operations).toEqual(operations);
      }),
      { numRuns: 200 },
    );
  });

  for (const [name, { kind, inject }] of Object.entries(injections)) {
    it(`rejects a generated history followed by: ${name}, as ${kind}`, () => {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const { recorder, store } = generated(seed);
          inject(recorder, store);
          const result = checkTxnHistory(recorder.operations());
          expect(result.valid).toBe(false);
          expect(anomalyKinds(result)).toEqual([kind]);
        }),
        { numRuns: 100 },
      );
    });
  }
});
