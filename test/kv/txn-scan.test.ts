/**
 * Proves that a scan page meets other transactions' intents as a get does: scanOwned refuses a page
 * with intentFound naming (in key order) exactly the write intents on keys the page covers (its
 * range, prefix and cursor, cut at the page's own cursor), ignores read locks and intents outside
 * the page, and after the intents resolve shows the committed values. Fixed cases, then a property
 * test against a naive filter over random keys, intents and page requests.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BatchStep, Operation } from "../../src/kv/command.ts";
import type { ScanRequest } from "../../src/kv/state-machine.ts";
import { anyKey, compareUtf8Bytes } from "./arbitraries.ts";
import { Harness, put, utf8 } from "./harness.ts";

const putStep = (key: string, text: string): BatchStep => ({ type: "put", key, value: utf8(text) });

function prepare(txn: string, ops: BatchStep[], reads: string[] = []): Operation {
  return { type: "txn", action: "prepare", txn, recordKey: `${txn}/record`, deadlineMs: 1_000, ops, reads };
}

function filled(keys: readonly string[]): Harness {
  const harness = new Harness();
  for (const key of keys) harness.run(put(key, `old ${key}`));
  return harness;
}

describe("a scan page that covers intents", () => {
  it("is refused with intentFound naming the write intents it covers, in key order", () => {
    const harness = filled(["a", "b", "c", "d"]);
    harness.run(prepare("t1", [putStep("c", "new c"), putStep("b2", "new key")], ["a"]));
    harness.run(prepare("t2", [{ type: "delete", key: "d" }]));
    expect(harness.machine.scanOwned({})).toEqual({
      ok: false,
      code: "intentFound",
      intents: [
        { key: "b2", txn: "t1", recordKey: "t1/record", deadlineMs: 1_000 },
        { key: "c", txn: "t1", recordKey: "t1/record", deadlineMs: 1_000 },
        { key: "d", txn: "t2", recordKey: "t2/record", deadlineMs: 1_000 },
      ],
    });
    // A read lock (on "a") blocks no reader; intents outside the range or before the cursor are not met.
    expect(harness.machine.scanOwned({ end: "b2" })).toMatchObject({ ok: true, page: { entries: [{ key: "a" }, { key: "b" }] } });
    expect(harness.machine.scanOwned({ start: "b", end: "c" })).toMatchObject({ ok: false, intents: [{ key: "b2" }] });
    expect(harness.machine.scanOwned({ prefix: "d" })).toMatchObject({ ok: false, intents: [{ key: "d", txn: "t2" }] });
    expect(harness.machine.scanOwned({ cursor: "d\u0000" })).toEqual({ ok: true, page: { entries: [] } });
  });

  it("is not refused for intents after the page's own cursor: the next page meets them", () => {
    const harness = filled(["a", "b", "c"]);
    harness.run(prepare("t1", [putStep("c", "new c")]));
    const first = harness.machine.scanOwned({ limit: 2 });
    expect(first).toMatchObject({ ok: true, page: { entries: [{ key: "a" }, { key: "b" }], cursor: "b\u0000" } });
    expect(harness.machine.scanOwned({ limit: 2, cursor: "b\u0000" })).toMatchObject({ ok: false, code: "intentFound", intents: [{ key: "c" }] });
  });

  it("shows the committed values once the intents resolve, and the old ones after an abort", () => {
    const harness = filled(["a", "b"]);
    harness.run(prepare("t1", [putStep("a", "new a"), { type: "delete", key: "b" }, putStep("c", "new c")]));
    harness.run(prepare("t2", [putStep("d", "never")]));
    harness.run({ type: "txn", action: "resolve", txn: "t1", commit: true });
    expect(harness.machine.scanOwned({ end: "d" })).toEqual({ ok: true, page: { entries: [{ key: "a", value: utf8("new a"), version: 3 }, { key: "c", value: utf8("new c"), version: 5 }] } });
    expect(harness.machine.scanOwned({})).toMatchObject({ ok: false, intents: [{ key: "d", txn: "t2" }] });
    harness.run({ type: "txn", action: "resolve", txn: "t2", commit: false });
    expect(harness.machine.scanOwned({})).toMatchObject({ ok: true, page: { entries: [{ key: "a" }, { key: "c" }] } });
  });

  it("names exactly the write intents in the page's covered span, for any keys, intents and request", () => {
    const keyList = fc.uniqueArray(fc.oneof(anyKey, anyKey.map((key) => `a${key}`)), { minLength: 1, maxLength: 30 });
    const request = fc.record({ start: anyKey, end: anyKey, prefix: fc.constantFrom("", "a"), cursor: anyKey, limit: fc.integer({ min: 1, max: 6 }) }, { requiredKeys: [] });
    const plan = fc.array(fc.record({ index: fc.nat(), kind: fc.constantFrom("put", "delete", "lock"), txn: fc.constantFrom("t1", "t2", "t3") }), { maxLength: 12 });
    fc.assert(
      fc.property(keyList, fc.uniqueArray(anyKey, { maxLength: 10 }), plan, request, (stored, fresh, intents, scan: ScanRequest) => {
        const harness = filled(stored);
        const candidates = [...stored, ...fresh];
        const laid = new Map<string, { txn: string; write: boolean }>();
        for (const { index, kind, txn } of intents) {
          const key = candidates[index % candidates.length]!;
          if (laid.has(key)) continue;
          const step: BatchStep[] = kind === "lock" ? [] : [kind === "put" ? putStep(key, "new") : { type: "delete", key }];
          expect(harness.run(prepare(txn, step, kind === "lock" ? [key] : []))).toMatchObject({ ok: true });
          laid.set(key, { txn, write: kind !== "lock" });
        }
        const page = harness.machine.scan(scan);
        const inPage = (key: string) =>
          (scan.start === undefined || compareUtf8Bytes(key, scan.start) >= 0) &&
          (scan.cursor === undefined || compareUtf8Bytes(key, scan.cursor) >= 0) &&
          (scan.end === undefined || compareUtf8Bytes(key, scan.end) < 0) &&
          (scan.prefix === undefined || key.startsWith(scan.prefix)) &&
          (page.cursor === undefined || compareUtf8Bytes(key, page.cursor) < 0);
        const met = [...laid].filter(([key, intent]) => intent.write && inPage(key)).map(([key]) => key).sort(compareUtf8Bytes);
        const result = harness.machine.scanOwned(scan);
        if (met.length === 0) expect(result).toEqual({ ok: true, page });
        else expect(result).toMatchObject({ ok: false, code: "intentFound", intents: met.map((key) => ({ key, txn: laid.get(key)!.txn })) });
      }),
      { numRuns: 300 },
    );
  });
});
