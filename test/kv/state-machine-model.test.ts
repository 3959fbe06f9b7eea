/**
 * Proves the KV state machine matches a naive reference model, and that snapshot then restore gives
 * a machine with identical state, identical scans and identical future behaviour: a property test
 * drives random command streams (several clients, duplicate and stale seqs, clocks that jump and
 * lag, batches, garbage entries) through the machine, a copy restored midway, and the model.
 * Fixed cases cover malformed snapshots.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand } from "../../src/kv/command-codec.ts";
import type { Command } from "../../src/kv/command.ts";
import { decodeSnapshot } from "../../src/kv/snapshot-codec.ts";
import { operation, pooledKey } from "./arbitraries.ts";
import { Harness, put } from "./harness.ts";
import { ReferenceKv } from "./reference-model.ts";

const options = { sessionTtlMs: 1_000, sessionsMax: 3 };

/** One log entry of a random stream: a command (as bytes and decoded), or garbage bytes. */
interface StreamEntry {
  data: Uint8Array;
  command: Command | undefined;
}

const streamItem = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      clientId: fc.constantFrom("a", "b", "c", "d", "e"),
      seq: fc.integer({ min: 1, max: 6 }),
      timeStepMs: fc.integer({ min: -300, max: 700 }),
      operation: operation(pooledKey, fc.integer({ min: 0, max: 12 })),
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((garbage) => ({ garbage })) },
);

type StreamItem = typeof streamItem extends fc.Arbitrary<infer Item> ? Item : never;

function streamOf(items: readonly StreamItem[]): StreamEntry[] {
  let timeMs = 0;
  return items.map((item) => {
    if ("garbage" in item) return { data: item.garbage, command: undefined };
    timeMs = Math.max(0, timeMs + item.timeStepMs);
    const command: Command = { clientId: item.clientId, seq: item.seq, timeMs, operation: item.operation };
    return { data: encodeCommand(command), command };
  });
}

function expectSameState(machine: Harness, model: ReferenceKv): void {
  expect(machine.everything()).toEqual(model.entries());
  expect(machine.machine.versionCounter).toBe(model.counter);
  expect(machine.machine.clockMs).toBe(model.clockMs);
  const decoded = decodeSnapshot(machine.machine.snapshot());
  expect(decoded.ok && decoded.snapshot.sessions).toEqual(model.sessions);
}

describe("the state machine against a reference model, with snapshot and restore midway", () => {
  it("gives the model's results and state, and the restored copy behaves identically", () => {
    fc.assert(
      fc.property(fc.array(streamItem, { maxLength: 80 }), fc.nat(), (items, cutSeed) => {
        const stream = streamOf(items);
        const cut = cutSeed % (stream.length + 1);
        const original = new Harness(options);
        const model = new ReferenceKv(options);
        let restored: Harness | undefined;
        stream.forEach((entry, position) => {
          if (position === cut) restored = restoredCopyOf(original);
          const expected = entry.command === undefined ? undefined : model.apply(entry.command);
          for (const machine of restored === undefined ? [original] : [original, restored]) {
            const result = machine.applyBytes(entry.data);
            if (expected === undefined) expect(result).toMatchObject({ ok: false, code: "badCommand" });
            else expect(result).toEqual(expected);
          }
        });
        restored ??= restoredCopyOf(original);
        expectSameState(original, model);
        expectSameState(restored, model);
        expect(restored.machine.snapshot()).toEqual(original.machine.snapshot());
        expect(restored.machine.appliedIndex).toBe(stream.length);
      }),
      { numRuns: 400 },
    );
  });

  it("garbage entries in the stream stay garbage for the model too", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (garbage) => {
        expect(decodeCommand(garbage).ok).toBe(false);
      }),
    );
  });
});

function restoredCopyOf(original: Harness): Harness {
  const copy = new Harness(options);
  copy.run(put("left-over", "replaced by restore"), { clientId: "stranger", timeMs: 99 });
  expect(copy.machine.restore(original.machine.snapshot())).toEqual({ ok: true });
  expect(copy.machine.snapshot()).toEqual(original.machine.snapshot());
  expect(copy.machine.appliedIndex).toBe(original.machine.appliedIndex);
  return copy;
}

describe("snapshots", () => {
  const populated = (): Harness => {
    const harness = new Harness();
    harness.run(put("a", "1"), { timeMs: 5 });
    harness.run(put("\u{1f600}", "2"), { clientId: "other", timeMs: 7 });
    harness.run({ type: "delete", key: "a" });
    return harness;
  };

  it("are deterministic: machines with the same history give the same bytes", () => {
    expect(populated().machine.snapshot()).toEqual(populated().machine.snapshot());
  });

  it("of an empty machine restore to an empty machine", () => {
    const restored = new Harness();
    expect(restored.machine.restore(new Harness().machine.snapshot())).toEqual({ ok: true });
    expect(restored.everything()).toEqual([]);
    expect(restored.machine.appliedIndex).toBe(0);
  });

  it("that are malformed or truncated give badSnapshot and leave the state unchanged", () => {
    const source = populated();
    const data = source.machine.snapshot();
    const target = populated();
    const before = target.machine.snapshot();
    for (let length = 0; length < data.length; length++) {
      expect(target.machine.restore(data.subarray(0, length))).toMatchObject({ ok: false, code: "badSnapshot" });
    }
    const versionBumped = data.slice();
    versionBumped[0] = 9;
    expect(target.machine.restore(versionBumped)).toMatchObject({ ok: false, code: "badSnapshot" });
    expect(target.machine.restore(Uint8Array.of(...data, 0))).toMatchObject({ ok: false, code: "badSnapshot" });
    expect(target.machine.snapshot()).toEqual(before);
  });

  it("that break an invariant (order, versions, sessions) are refused", () => {
    const header = (fields: object): Uint8Array => {
      const text = new TextEncoder().encode(JSON.stringify({ appliedIndex: 1, versionCounter: 5, clockMs: 10, entryCount: 0, sessions: [], ...fields }));
      return Uint8Array.of(1, 0, 0, text.length >> 8, text.length & 0xff, ...text);
    };
    const target = new Harness();
    expect(target.machine.restore(header({}))).toEqual({ ok: true });
    expect(target.machine.restore(header({ clockMs: -1 }))).toMatchObject({ ok: false });
    expect(target.machine.restore(header({ sessions: [["a", 1, 11, { ok: true }]] }))).toMatchObject({ ok: false });
    expect(target.machine.restore(header({ sessions: [["a", 1, 5, { ok: true }], ["b", 1, 4, { ok: true }]] }))).toMatchObject({ ok: false });
    expect(target.machine.restore(header({ sessions: [["a", 1, 5, { ok: true }], ["a", 2, 6, { ok: true }]] }))).toMatchObject({ ok: false });
    expect(target.machine.restore(header({ sessions: [["a", 0, 5, { ok: true }]] }))).toMatchObject({ ok: false });
    expect(target.machine.restore(header({ sessions: [["a", 1, 5, "done"]] }))).toMatchObject({ ok: false });
    const entry = (key: string, version: number): number[] => [0, 0, 0, key.length, ...new TextEncoder().encode(key), ...eightBytes(version), 0, 0, 0, 0];
    expect(target.machine.restore(Uint8Array.of(...header({ entryCount: 2 }), ...entry("a", 1), ...entry("b", 5)))).toEqual({ ok: true });
    expect(target.everything().map((record) => record.key)).toEqual(["a", "b"]);
    expect(target.machine.restore(Uint8Array.of(...header({ entryCount: 2 }), ...entry("b", 1), ...entry("a", 2)))).toMatchObject({ ok: false });
    expect(target.machine.restore(Uint8Array.of(...header({ entryCount: 1 }), ...entry("a", 6)))).toMatchObject({ ok: false });
    expect(target.machine.restore(Uint8Array.of(...header({ entryCount: 1 }), ...entry("", 1)))).toMatchObject({ ok: false });
    expect(target.everything().map((record) => record.key)).toEqual(["a", "b"]);
  });
});

function eightBytes(value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value);
  return [...bytes];
}
