/**
 * Proves the transaction rules of the KV state machine through apply (encoded commands, real
 * machines over memory stores): the one-phase path is one entry with checks, reads and versions;
 * prepare lays intents that block other writers (and readers of written keys) with a typed
 * intentFound; a record is decided exactly once (a commit and a push race: the first in the log
 * wins); a push aborts only past the deadline in the log's clock; resolve turns intents into records
 * with the versions reserved at prepare, or drops them; a late prepare after the end is refused;
 * intents survive snapshot, restore and a restart from meta bytes; and a frozen span holding intents
 * and records refuses every transaction command on it (they travel with the move: range-txn.test.ts).
 */
import { describe, expect, it } from "vitest";
import { validateCommand, type BatchStep, type Operation } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import { Harness, put, utf8 } from "./harness.ts";

const putStep = (key: string, text: string): BatchStep => ({ type: "put", key, value: utf8(text) });
const check = (key: string, ifVersion: number): BatchStep => ({ type: "check", key, ifVersion });

function prepare(txn: string, ops: BatchStep[], options: { reads?: string[]; deadlineMs?: number; recordKey?: string } = {}): Operation {
  return { type: "txn", action: "prepare", txn, recordKey: options.recordKey ?? "record", deadlineMs: options.deadlineMs ?? 1_000, ops, reads: options.reads ?? [] };
}
const begin = (txn: string, deadlineMs = 1_000, keys: string[] = ["a"]): Operation => ({ type: "txn", action: "begin", txn, recordKey: "record", deadlineMs, keys });
const decide = (txn: string, decision: "commit" | "abort" | "push"): Operation => ({ type: "txn", action: "decide", txn, recordKey: "record", decision });
const resolve = (txn: string, commit: boolean): Operation => ({ type: "txn", action: "resolve", txn, commit });

describe("the one-phase path", () => {
  it("applies checks, reads and writes in one entry; reads show the records before the writes", () => {
    const harness = new Harness();
    harness.run(put("a", "10"));
    const result = harness.run({ type: "txn", action: "onePhase", ops: [check("a", 1), check("b", 0), putStep("a", "5"), putStep("b", "5")], reads: ["a", "b"] });
    expect(result).toEqual({
      ok: true,
      type: "txn",
      reads: [
        { key: "a", found: true, version: 1, valueBase64: "MTA=" },
        { key: "b", found: false, version: 0 },
      ],
      versions: [
        { key: "a", version: 2 },
        { key: "b", version: 3 },
      ],
    });
    expect(harness.machine.get("b")).toEqual({ value: utf8("5"), version: 3 });
  });

  it("writes nothing when a check fails, and names the key", () => {
    const harness = new Harness();
    harness.run(put("a", "10"));
    const result = harness.run({ type: "txn", action: "onePhase", ops: [check("a", 7), putStep("b", "x")], reads: [] });
    expect(result).toEqual({ ok: false, code: "conditionFailed", failures: [{ index: 0, key: "a", currentVersion: 1 }] });
    expect(harness.machine.get("b")).toBeUndefined();
    expect(harness.machine.versionCounter).toBe(1);
  });

  it("refuses malformed transactions as bad commands", () => {
    const command = (operation: Operation) => ({ clientId: "c", seq: 1, timeMs: 0, operation });
    const twice = validateCommand(command({ type: "txn", action: "onePhase", ops: [putStep("a", "1"), putStep("a", "2")], reads: [] }));
    expect(twice).toMatchObject({ ok: false, code: "badCommand", reason: 'key "a" is written twice' });
    const conditioned = validateCommand(command({ type: "txn", action: "onePhase", ops: [{ type: "put", key: "a", value: utf8("1"), condition: { ifAbsent: true } }], reads: [] }));
    expect(conditioned).toMatchObject({ ok: false, code: "badCommand" });
    expect(validateCommand(command({ type: "txn", action: "onePhase", ops: [], reads: [] }))).toMatchObject({ ok: false, code: "badCommand" });
  });
});

describe("intents", () => {
  it("reserve versions at prepare and block writers, and readers of written keys, with intentFound", () => {
    const harness = new Harness();
    harness.run(put("r", "read me"));
    const prepared = harness.run(prepare("t1", [putStep("a", "1"), { type: "delete", key: "d" }], { reads: ["r"] }));
    expect(prepared).toMatchObject({ ok: true, type: "txn", versions: [{ key: "a", version: 2 }, { key: "d", version: 3 }] });
    const blockedBy = { ok: false, code: "intentFound", intents: [{ key: "a", txn: "t1", recordKey: "record", deadlineMs: 1_000 }] };
    expect(harness.machine.read("a")).toEqual(blockedBy);
    expect(harness.machine.read("r")).toMatchObject({ ok: true }); // a read lock does not block readers
    expect(harness.run(put("a", "other"))).toEqual(blockedBy);
    expect(harness.run(put("r", "other"))).toMatchObject({ ok: false, code: "intentFound", intents: [{ key: "r", txn: "t1" }] });
    expect(harness.run({ type: "batch", ops: [putStep("z", "1"), putStep("a", "2")] })).toEqual(blockedBy);
    expect(harness.run(prepare("t2", [putStep("a", "2")]))).toEqual(blockedBy);
    expect(harness.run({ type: "txn", action: "onePhase", ops: [], reads: ["a"] })).toEqual(blockedBy);
    expect(harness.machine.get("a")).toBeUndefined();
  });

  it("turn into records with their reserved versions on commit, and vanish on abort", () => {
    const harness = new Harness();
    harness.run(prepare("t1", [putStep("a", "1"), putStep("b", "1")]));
    harness.run(prepare("t2", [putStep("c", "2")]));
    harness.run(put("x", "later"));
    expect(harness.run(resolve("t1", true))).toEqual({ ok: true, type: "txnResolved", resolved: 2 });
    expect(harness.run(resolve("t2", false))).toEqual({ ok: true, type: "txnResolved", resolved: 1 });
    expect(harness.machine.get("a")).toEqual({ value: utf8("1"), version: 1 });
    expect(harness.machine.get("b")).toEqual({ value: utf8("1"), version: 2 });
    expect(harness.machine.get("c")).toBeUndefined();
    expect(harness.run(put("a", "after"))).toEqual({ ok: true, type: "put", version: 5 });
    expect(harness.machine.transactions().intents).toEqual([]);
  });

  it("are laid all or none: a failed check or a conflict lays nothing", () => {
    const harness = new Harness();
    harness.run(put("a", "1"));
    expect(harness.run(prepare("t1", [check("a", 9), putStep("b", "1")]))).toMatchObject({ ok: false, code: "conditionFailed" });
    harness.run(prepare("t2", [putStep("c", "1")]));
    expect(harness.run(prepare("t3", [putStep("b", "1"), putStep("c", "1")]))).toMatchObject({ ok: false, code: "intentFound" });
    expect(harness.machine.transactions().intents.map((intent) => intent.key)).toEqual(["c"]);
  });

  it("answer a repeated prepare with the same versions, and refuse a prepare after the transaction ended", () => {
    const harness = new Harness();
    const first = harness.run(prepare("t1", [putStep("a", "1")]));
    expect(harness.run(prepare("t1", [putStep("a", "1")]), { clientId: "other" })).toEqual(first);
    harness.run(resolve("t1", true));
    expect(harness.run(prepare("t1", [putStep("a", "1")]), { clientId: "late" })).toMatchObject({ ok: false, code: "txnRefused" });
    expect(harness.machine.get("a")?.version).toBe(1);
  });

  it("survive snapshot and restore, and a restart from meta bytes", () => {
    const harness = new Harness();
    harness.run(prepare("t1", [putStep("a", "bytes"), check("k", 0)], { reads: ["r"] }));
    harness.run(begin("t1"));
    const restored = new Harness();
    expect(restored.machine.restore(harness.machine.snapshot())).toEqual({ ok: true });
    const store = new MemoryKvStore();
    const resumed = new KvStateMachine(store, { resume: harness.machine.metaSnapshot() });
    for (const machine of [restored.machine, resumed]) {
      expect(machine.transactions()).toEqual(harness.machine.transactions());
      expect(machine.read("a")).toMatchObject({ ok: false, code: "intentFound" });
    }
    restored.run(resolve("t1", true), { clientId: "after-restore" });
    expect(restored.machine.get("a")).toEqual({ value: utf8("bytes"), version: 1 });
  });
});

describe("the transaction record", () => {
  it("is decided once: a commit after a push's abort reads aborted, and a push after the commit reads committed", () => {
    const first = new Harness();
    first.run(begin("t", 100));
    expect(first.run(decide("t", "push"), { timeMs: 100 })).toMatchObject({ status: "aborted" });
    expect(first.run(decide("t", "commit"))).toMatchObject({ status: "aborted" });
    const second = new Harness();
    second.run(begin("t", 100));
    expect(second.run(decide("t", "commit"))).toMatchObject({ status: "committed" });
    expect(second.run(decide("t", "push"), { timeMs: 500 })).toMatchObject({ status: "committed" });
    expect(second.run(decide("t", "abort"))).toMatchObject({ status: "committed" });
  });

  it("is pushed to aborted only once the log's clock reaches its deadline", () => {
    const harness = new Harness();
    harness.run(begin("t", 100));
    expect(harness.run(decide("t", "push"), { timeMs: 99 })).toEqual({ ok: true, type: "txnStatus", status: "pending", deadlineMs: 100 });
    expect(harness.run(decide("t", "push"), { timeMs: 100 })).toEqual({ ok: true, type: "txnStatus", status: "aborted", deadlineMs: 100 });
  });

  it("is written aborted when a decision finds none, so its transaction can never commit", () => {
    const harness = new Harness();
    expect(harness.run(decide("ghost", "push"))).toMatchObject({ status: "aborted" });
    expect(harness.run(begin("ghost"))).toMatchObject({ status: "aborted" });
    expect(harness.run(decide("ghost", "commit"))).toMatchObject({ status: "aborted" });
  });

  it("is forgotten only once decided", () => {
    const harness = new Harness();
    harness.run(begin("t"));
    const forget: Operation = { type: "txn", action: "forget", txn: "t", recordKey: "record" };
    expect(harness.run(forget)).toMatchObject({ status: "pending" });
    harness.run(decide("t", "commit"));
    expect(harness.run(forget)).toMatchObject({ status: "committed", forgotten: true });
    expect(harness.machine.transactions().records).toEqual([]);
  });
});

describe("ranges", () => {
  it("a span holding intents or records freezes, and then refuses every transaction command on it with rangeFrozen", () => {
    const harness = new Harness();
    harness.run({ type: "range", change: { action: "init", mode: "range", spans: [{ start: "" }] } });
    harness.run(prepare("t1", [putStep("m", "1")]));
    harness.run(begin("t2"));
    expect(harness.run({ type: "range", change: { action: "freeze", saga: "s1", span: { start: "k", end: "s" } } })).toMatchObject({ ok: true, type: "range" });
    const frozen = { ok: false, code: "rangeFrozen" };
    expect(harness.run(prepare("t3", [putStep("l", "1")]))).toMatchObject(frozen);
    expect(harness.run(begin("t3"))).toMatchObject(frozen);
    expect(harness.run(decide("t2", "commit"))).toMatchObject(frozen);
    expect(harness.run(decide("t1", "push"), { timeMs: 5_000 })).toMatchObject(frozen);
    expect(harness.run(resolve("t1", true))).toMatchObject(frozen);
    expect(harness.run({ type: "txn", action: "forget", txn: "t2", recordKey: "record" })).toMatchObject(frozen);
    expect(harness.run({ type: "txn", action: "onePhase", ops: [putStep("n", "1")], reads: [] })).toMatchObject(frozen);
    expect(harness.machine.transactions().intents.map((intent) => intent.key)).toEqual(["m"]);
    expect(harness.machine.transactions().records.map(([txn, record]) => [txn, record.status])).toEqual([["t2", "pending"]]);
    expect(harness.run(prepare("t4", [putStep("a", "1")], { recordKey: "a" }))).toMatchObject({ ok: true, type: "txn" }); // outside the frozen span
  });

  it("a transaction on a key the group does not serve is refused with wrongRange and leaves nothing", () => {
    const harness = new Harness();
    harness.run({ type: "range", change: { action: "init", mode: "range", spans: [{ start: "", end: "m" }] } });
    expect(harness.run(prepare("t1", [putStep("a", "1"), putStep("z", "1")]))).toMatchObject({ ok: false, code: "wrongRange" });
    expect(harness.machine.transactions().intents).toEqual([]);
  });
});

describe("a prepare that routing splits", () => {
  it("lays the keys a second prepare of the same transaction brings to a group that already holds some (a key moved in between)", () => {
    const harness = new Harness();
    harness.run(put("b", "120"));
    const first = harness.run(prepare("t1", [putStep("a", "91")]));
    expect(first).toMatchObject({ ok: true, versions: [{ key: "a", version: 2 }] });
    const second = harness.run(prepare("t1", [check("b", 1), putStep("b", "129")]), { clientId: "other" });
    expect(second).toMatchObject({ ok: true, versions: [{ key: "b", version: 3 }] });
    expect(harness.run(prepare("t1", [check("b", 1), putStep("b", "129")]), { clientId: "third" })).toEqual(second);
    harness.run(resolve("t1", true));
    expect(harness.machine.get("a")?.version).toBe(2);
    expect(harness.machine.get("b")).toEqual({ value: utf8("129"), version: 3 });
  });
});
