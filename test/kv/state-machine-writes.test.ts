/**
 * Proves the write rules of the KV state machine through apply: versions come from one counter and
 * strictly increase per key (across delete and re-create, and within batches); compare-and-set and
 * ifAbsent hold or fail without writing; a batch with any failed condition writes nothing and names
 * every failure; malformed entries and out-of-order indexes are handled as documented.
 */
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/shared/assert.ts";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import { Harness, put, utf8 } from "./harness.ts";

describe("versions", () => {
  it("strictly increase for one key across put, delete and put again", () => {
    const harness = new Harness();
    const first = harness.run(put("k", "one"));
    const removed = harness.run({ type: "delete", key: "k" });
    expect(harness.machine.get("k")).toBeUndefined();
    const again = harness.run(put("k", "two"));
    expect(first).toEqual({ ok: true, type: "put", version: 1 });
    expect(removed).toEqual({ ok: true, type: "delete", version: 2, deleted: true });
    expect(again).toEqual({ ok: true, type: "put", version: 3 });
    expect(harness.machine.get("k")).toEqual({ value: utf8("two"), version: 3 });
  });

  it("come from one counter shared by every key, and a delete of an absent key takes one too", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    harness.run(put("b", "2"));
    expect(harness.run({ type: "delete", key: "missing" })).toEqual({ ok: true, type: "delete", version: 3, deleted: false });
    expect(harness.run(put("a", "3"))).toEqual({ ok: true, type: "put", version: 4 });
    expect(harness.machine.versionCounter).toBe(4);
    expect(harness.machine.get("b")?.version).toBe(2);
  });

  it("are taken by each write inside a batch, in step order; a check takes none", () => {
    const harness = new Harness();
    harness.run(put("x", "0"));
    const result = harness.run({
      type: "batch",
      ops: [
        { type: "put", key: "a", value: utf8("1") },
        { type: "check", key: "x", ifVersion: 1 },
        { type: "put", key: "a", value: utf8("2") },
        { type: "delete", key: "x" },
        { type: "put", key: "x", value: utf8("3") },
      ],
    });
    expect(result).toEqual({ ok: true, type: "batch", versions: [2, 1, 3, 4, 5] });
    expect(harness.everything()).toEqual([
      { key: "a", value: utf8("2"), version: 3 },
      { key: "x", value: utf8("3"), version: 5 },
    ]);
  });

  it("are not consumed by a write whose condition fails", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    harness.run(put("a", "2", { ifVersion: 7 }));
    expect(harness.run(put("b", "3"))).toEqual({ ok: true, type: "put", version: 2 });
  });
});

describe("conditional writes", () => {
  it("compare-and-set succeeds on the current version and fails on any other, naming the current one", () => {
    const harness = new Harness();
    harness.run(put("k", "a"));
    expect(harness.run(put("k", "b", { ifVersion: 1 }))).toEqual({ ok: true, type: "put", version: 2 });
    expect(harness.run(put("k", "c", { ifVersion: 1 }))).toEqual({
      ok: false,
      code: "conditionFailed",
      failures: [{ index: 0, key: "k", currentVersion: 2 }],
    });
    expect(harness.machine.get("k")).toEqual({ value: utf8("b"), version: 2 });
  });

  it("ifVersion 0 and ifAbsent both mean the key must be absent", () => {
    const harness = new Harness();
    expect(harness.run(put("k", "a", { ifVersion: 0 }))).toMatchObject({ ok: true, version: 1 });
    expect(harness.run(put("k", "b", { ifVersion: 0 }))).toMatchObject({ ok: false, failures: [{ currentVersion: 1 }] });
    expect(harness.run(put("k", "b", { ifAbsent: true }))).toMatchObject({ ok: false, failures: [{ currentVersion: 1 }] });
    expect(harness.run(put("new", "c", { ifAbsent: true }))).toMatchObject({ ok: true, version: 2 });
    expect(harness.machine.get("k")?.value).toEqual(utf8("a"));
  });

  it("a conditional delete removes only at the expected version", () => {
    const harness = new Harness();
    harness.run(put("k", "a"));
    expect(harness.run({ type: "delete", key: "k", condition: { ifVersion: 5 } })).toMatchObject({ ok: false, code: "conditionFailed" });
    expect(harness.machine.get("k")?.version).toBe(1);
    expect(harness.run({ type: "delete", key: "k", condition: { ifVersion: 1 } })).toEqual({ ok: true, type: "delete", version: 2, deleted: true });
    expect(harness.run({ type: "delete", key: "k", condition: { ifAbsent: true } })).toMatchObject({ ok: true, deleted: false });
  });
});

describe("batches", () => {
  it("write nothing when one check fails", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    const before = harness.everything();
    const result = harness.run({
      type: "batch",
      ops: [
        { type: "put", key: "b", value: utf8("2") },
        { type: "delete", key: "a" },
        { type: "check", key: "c", ifVersion: 3 },
      ],
    });
    expect(result).toEqual({ ok: false, code: "conditionFailed", failures: [{ index: 2, key: "c", currentVersion: 0 }] });
    expect(harness.everything()).toEqual(before);
    expect(harness.machine.versionCounter).toBe(1);
  });

  it("name every failed step, judging each against the steps before it", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    harness.run(put("b", "2"));
    const result = harness.run({
      type: "batch",
      ops: [
        { type: "check", key: "a", ifVersion: 9 },
        { type: "put", key: "b", value: utf8("3"), condition: { ifVersion: 2 } },
        { type: "check", key: "b", ifVersion: 3 },
        { type: "put", key: "c", value: utf8("4"), condition: { ifAbsent: true } },
        { type: "delete", key: "b", condition: { ifVersion: 2 } },
      ],
    });
    expect(result).toEqual({
      ok: false,
      code: "conditionFailed",
      failures: [
        { index: 0, key: "a", currentVersion: 1 },
        { index: 4, key: "b", currentVersion: 3 },
      ],
    });
    expect(harness.machine.get("b")?.version).toBe(2);
    expect(harness.machine.get("c")).toBeUndefined();
  });

  it("apply when every condition holds, including conditions on keys the batch wrote", () => {
    const harness = new Harness();
    const result = harness.run({
      type: "batch",
      ops: [
        { type: "put", key: "k", value: utf8("1"), condition: { ifAbsent: true } },
        { type: "check", key: "k", ifVersion: 1 },
        { type: "delete", key: "k", condition: { ifVersion: 1 } },
        { type: "check", key: "k", ifVersion: 0 },
      ],
    });
    expect(result).toEqual({ ok: true, type: "batch", versions: [1, 1, 2, 0] });
    expect(harness.machine.get("k")).toBeUndefined();
  });
});

describe("apply", () => {
  it("answers malformed entry bytes with badCommand, advancing the applied index and changing nothing else", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    const result = harness.applyBytes(Uint8Array.of(1, 0, 0));
    expect(result).toMatchObject({ ok: false, code: "badCommand" });
    expect(harness.machine.appliedIndex).toBe(2);
    expect(harness.machine.versionCounter).toBe(1);
    expect(harness.machine.sessionCount).toBe(1);
    expect(harness.everything()).toEqual([{ key: "a", value: utf8("1"), version: 1 }]);
  });

  it("asserts that indexes strictly increase, and accepts gaps", () => {
    const harness = new Harness();
    const data = encodeCommand({ clientId: "c", seq: 1, timeMs: 0, operation: { type: "noop" } });
    harness.machine.apply(5, data);
    expect(harness.machine.appliedIndex).toBe(5);
    expect(() => harness.machine.apply(5, data)).toThrow(AssertionError);
    expect(() => harness.machine.apply(3, data)).toThrow(AssertionError);
    expect(() => harness.machine.apply(1.5, data)).toThrow(AssertionError);
    expect(harness.machine.apply(9, data)).toEqual({ ok: true, type: "noop" });
  });
});
