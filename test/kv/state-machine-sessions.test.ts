/**
 * Proves client sessions (Raft thesis 6.3) through apply: a retried (clientId, seq) gets the cached
 * result and changes nothing, a lower seq gets sessionExpired, sessions expire by the log's clock
 * (the largest timeMs applied) and by a least-recently-used bound, after which a retry is applied
 * again, as documented; and sessions survive snapshot and restore.
 */
import { describe, expect, it } from "vitest";
import type { Command } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import { KvStateMachine, sessionTtlMsDefault } from "../../src/kv/state-machine.ts";
import { Harness, put } from "./harness.ts";

const command = (clientId: string, seq: number, timeMs: number, key = "k"): Command => ({
  clientId,
  seq,
  timeMs,
  operation: put(key, `${clientId}:${seq}`),
});

describe("duplicate commands", () => {
  it("apply once: the retry gets the same result and changes nothing", () => {
    const harness = new Harness();
    const first = harness.applyCommand(command("alice", 1, 10));
    const entriesAfterFirst = harness.everything();
    const retry = harness.applyCommand(command("alice", 1, 20));
    expect(retry).toEqual(first);
    expect(harness.everything()).toEqual(entriesAfterFirst);
    expect(harness.machine.versionCounter).toBe(1);
  });

  it("cache failed results too, so a retried failed compare-and-set fails the same way", () => {
    const harness = new Harness();
    harness.applyCommand(command("alice", 1, 0));
    const conditional: Command = { clientId: "bob", seq: 1, timeMs: 0, operation: put("k", "x", { ifVersion: 9 }) };
    const failed = harness.applyCommand(conditional);
    harness.applyCommand(command("alice", 2, 0));
    expect(harness.applyCommand(conditional)).toEqual(failed);
    expect(failed).toMatchObject({ ok: false, code: "conditionFailed" });
  });

  it("answer a seq below the last applied one with sessionExpired and apply nothing", () => {
    const harness = new Harness();
    harness.applyCommand(command("alice", 1, 0));
    harness.applyCommand(command("alice", 2, 0));
    expect(harness.applyCommand(command("alice", 1, 0, "other"))).toEqual({ ok: false, code: "sessionExpired", lastSeq: 2 });
    expect(harness.machine.get("other")).toBeUndefined();
  });

  it("are tracked per client, and a client may skip seqs forward", () => {
    const harness = new Harness();
    expect(harness.applyCommand(command("alice", 1, 0))).toMatchObject({ version: 1 });
    expect(harness.applyCommand(command("bob", 1, 0))).toMatchObject({ version: 2 });
    expect(harness.applyCommand(command("alice", 5, 0))).toMatchObject({ version: 3 });
    expect(harness.applyCommand(command("alice", 5, 0))).toMatchObject({ version: 3 });
    expect(harness.machine.sessionCount).toBe(2);
  });
});

describe("session expiry through the log", () => {
  it("expires a session idle longer than sessionTtlMs, after which a retry is applied again", () => {
    const harness = new Harness({ sessionTtlMs: 1_000 });
    harness.applyCommand(command("alice", 1, 5_000));
    harness.applyCommand(command("bob", 1, 6_000));
    expect(harness.machine.sessionCount).toBe(2);
    expect(harness.applyCommand(command("alice", 1, 6_000))).toMatchObject({ version: 1 });
    harness.applyCommand(command("bob", 2, 7_001));
    expect(harness.machine.sessionCount).toBe(1);
    expect(harness.applyCommand(command("alice", 1, 7_001))).toMatchObject({ ok: true, version: 4 });
  });

  it("keeps a session idle exactly sessionTtlMs, and a noop keeps a session alive", () => {
    const harness = new Harness({ sessionTtlMs: 1_000 });
    harness.applyCommand(command("alice", 1, 0));
    harness.applyCommand({ clientId: "alice", seq: 2, timeMs: 900, operation: { type: "noop" } });
    harness.applyCommand(command("bob", 1, 1_900));
    expect(harness.applyCommand({ clientId: "alice", seq: 2, timeMs: 1_900, operation: { type: "noop" } })).toEqual({ ok: true, type: "noop" });
    expect(harness.machine.sessionCount).toBe(2);
  });

  it("keeps the clock at the largest timeMs applied, so a late timestamp neither rewinds nor expires", () => {
    const harness = new Harness({ sessionTtlMs: 1_000 });
    harness.applyCommand(command("alice", 1, 10_000));
    harness.applyCommand(command("bob", 1, 3_000));
    expect(harness.machine.clockMs).toBe(10_000);
    expect(harness.applyCommand(command("alice", 1, 0))).toMatchObject({ version: 1 });
  });

  it("defaults to a ten-minute session lifetime", () => {
    expect(sessionTtlMsDefault).toBe(600_000);
    const harness = new Harness();
    harness.applyCommand(command("alice", 1, 0));
    harness.applyCommand(command("bob", 1, sessionTtlMsDefault));
    expect(harness.machine.sessionCount).toBe(2);
    harness.applyCommand(command("bob", 2, sessionTtlMsDefault + 1));
    expect(harness.machine.sessionCount).toBe(1);
  });
});

describe("session bound", () => {
  it("evicts the least recently used session past sessionsMax, counting a retry as use", () => {
    const harness = new Harness({ sessionsMax: 3 });
    for (const clientId of ["a", "b", "c"]) harness.applyCommand(command(clientId, 1, 0, clientId));
    harness.applyCommand(command("a", 1, 0, "a"));
    harness.applyCommand(command("d", 1, 0, "d"));
    expect(harness.machine.sessionCount).toBe(3);
    expect(harness.applyCommand(command("a", 1, 0, "a"))).toMatchObject({ version: 1 });
    expect(harness.applyCommand(command("b", 1, 0, "b"))).toMatchObject({ version: 5 });
  });

  it("rejects a sessionsMax above limits.sessionsMax or below 1", () => {
    expect(() => new KvStateMachine(new MemoryKvStore(), { sessionsMax: 0 })).toThrow();
    expect(() => new KvStateMachine(new MemoryKvStore(), { sessionsMax: 10_000_000 })).toThrow();
  });
});

describe("sessions in snapshots", () => {
  it("survive restore: a retry after restore gets the cached result, and LRU order is kept", () => {
    const harness = new Harness({ sessionsMax: 2 });
    harness.applyCommand(command("a", 1, 0, "a"));
    harness.applyCommand(command("b", 1, 0, "b"));
    harness.applyCommand(command("a", 1, 0, "a"));
    const restored = new Harness({ sessionsMax: 2 });
    expect(restored.machine.restore(harness.machine.snapshot())).toEqual({ ok: true });
    for (const machine of [harness, restored]) {
      expect(machine.applyCommand(command("a", 1, 0, "a"))).toMatchObject({ version: 1 });
      machine.applyCommand(command("c", 1, 0, "c"));
      expect(machine.applyCommand(command("b", 1, 0, "b"))).toMatchObject({ version: 4 });
    }
    expect(restored.machine.snapshot()).toEqual(harness.machine.snapshot());
  });
});

describe("reopening durable state", () => {
  it("metaSnapshot plus the same store resumes with identical sessions, counter and results", () => {
    const store = new MemoryKvStore();
    const first = new KvStateMachine(store);
    const put = (seq: number, key: string) =>
      encodeCommand({ clientId: "c", seq, timeMs: 1000 + seq, operation: { type: "put", key, value: new Uint8Array([seq]) } });
    const original = first.apply(1, put(1, "a"));
    first.apply(2, put(2, "b"));
    const reopened = new KvStateMachine(store, { resume: first.metaSnapshot() });
    expect(reopened.appliedIndex).toBe(2);
    expect(reopened.versionCounter).toBe(first.versionCounter);
    expect(reopened.sessionCount).toBe(1);
    expect(reopened.apply(3, put(2, "b"))).toEqual({ ok: true, type: "put", version: 2 }); // a retry: cached result
    expect(reopened.apply(4, put(3, "c"))).toEqual({ ok: true, type: "put", version: 3 });
    expect(original).toEqual({ ok: true, type: "put", version: 1 });
    expect(() => new KvStateMachine(store, { resume: first.snapshot() })).toThrow();
  });
});
