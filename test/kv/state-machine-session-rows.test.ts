/**
 * Proves that a host can persist the KV state machine's sessions one row per client, writing only
 * what changed: takeMetaChanges() reports exactly the sessions that applied commands used, evicted
 * or expired (everything after a restore or a reopen from an old blob), and a machine reopened
 * from those rows, handed back in any order, keeps evicting and expiring exactly the same clients
 * as one that never reopened. Rows live in a memory map written the way SqliteKvStore writes them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import type { Command } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import type { StoredSession } from "../../src/kv/sessions.ts";
import { decodeSnapshot } from "../../src/kv/snapshot-codec.ts";
import { KvStateMachine, type KvStateMachineOptions, type MetaChanges } from "../../src/kv/state-machine.ts";
import { put } from "./harness.ts";

/** A host's durable metadata as rows in memory, written like SqliteKvStore.writeMeta writes kv_meta and kv_session. */
class MemoryMetaRows {
  counters: Uint8Array | undefined;
  readonly rows = new Map<string, StoredSession>();

  write(changes: MetaChanges): void {
    this.counters = changes.counters;
    if (changes.replaceAll) this.rows.clear();
    for (const clientId of changes.deletes) this.rows.delete(clientId);
    for (const session of changes.upserts) this.rows.set(session.clientId, session);
  }

  /** Options that reopen a machine from these rows, handed over in the order `arrange` gives. */
  resumeOptions(arrange: (rows: StoredSession[]) => StoredSession[] = (rows) => rows): KvStateMachineOptions {
    return { resume: this.counters, resumeSessions: arrange([...this.rows.values()]) };
  }

  /** The rows as snapshots list sessions: by order, without it. */
  sessionsByOrder(): unknown[] {
    return [...this.rows.values()].sort((left, right) => left.order - right.order).map(({ order: _order, ...session }) => session);
  }
}

/** Applies commands as consecutive entries after the machine's applied index. */
function applyAll(machine: KvStateMachine, commands: readonly Command[]): void {
  for (const command of commands) machine.apply(machine.appliedIndex + 1, encodeCommand(command));
}

const use = (clientId: string, seq: number, timeMs: number): Command => ({ clientId, seq, timeMs, operation: put(clientId, `${seq}`) });

const idsOf = (sessions: readonly StoredSession[]) => sessions.map((session) => session.clientId).sort();

function sessionsOf(machine: KvStateMachine): unknown[] {
  const decoded = decodeSnapshot(machine.metaSnapshot());
  if (!decoded.ok) throw new Error(decoded.reason);
  return [...decoded.snapshot.sessions];
}

describe("takeMetaChanges", () => {
  it("reports only the sessions the applied commands used, a retry included", () => {
    const machine = new KvStateMachine(new MemoryKvStore());
    applyAll(machine, [use("a", 1, 10), use("b", 1, 10), use("c", 1, 10)]);
    const first = machine.takeMetaChanges();
    expect(first).toMatchObject({ replaceAll: false, deletes: [] });
    expect(idsOf(first.upserts)).toEqual(["a", "b", "c"]);
    applyAll(machine, [use("b", 2, 20), use("a", 1, 20)]);
    const second = machine.takeMetaChanges();
    expect(second).toMatchObject({ replaceAll: false, deletes: [] });
    expect(idsOf(second.upserts)).toEqual(["a", "b"]);
    const byId = new Map(second.upserts.map((session) => [session.clientId, session]));
    expect(byId.get("b")).toMatchObject({ lastSeq: 2, lastUsedMs: 20 });
    expect(byId.get("a")).toMatchObject({ lastSeq: 1, lastUsedMs: 20, result: { ok: true, type: "put", version: 1 } });
    expect((byId.get("a")?.order ?? 0) > (byId.get("b")?.order ?? 0)).toBe(true);
    const firstOrderMax = Math.max(...first.upserts.map((session) => session.order));
    expect(second.upserts.every((session) => session.order > firstOrderMax)).toBe(true);
  });

  it("reports no session when nothing used one, and always the counters", () => {
    const machine = new KvStateMachine(new MemoryKvStore());
    applyAll(machine, [use("a", 1, 10)]);
    machine.takeMetaChanges();
    machine.apply(2, new Uint8Array([0xff])); // garbage: a badCommand result, no session
    const changes = machine.takeMetaChanges();
    expect(changes).toMatchObject({ replaceAll: false, upserts: [], deletes: [] });
    const counters = decodeSnapshot(changes.counters);
    expect(counters.ok && counters.snapshot).toMatchObject({ appliedIndex: 2, versionCounter: 1, clockMs: 10, sessions: [], entries: [] });
  });

  it("reports a session evicted past sessionsMax as a delete", () => {
    const machine = new KvStateMachine(new MemoryKvStore(), { sessionsMax: 2 });
    applyAll(machine, [use("a", 1, 0), use("b", 1, 0)]);
    machine.takeMetaChanges();
    applyAll(machine, [use("c", 1, 0)]);
    expect(machine.takeMetaChanges()).toMatchObject({ replaceAll: false, upserts: [{ clientId: "c" }], deletes: ["a"] });
  });

  it("reports a session expired by the clock as a delete", () => {
    const machine = new KvStateMachine(new MemoryKvStore(), { sessionTtlMs: 100 });
    applyAll(machine, [use("a", 1, 0), use("b", 1, 100)]);
    machine.takeMetaChanges();
    applyAll(machine, [use("c", 1, 150)]);
    expect(machine.takeMetaChanges()).toMatchObject({ replaceAll: false, upserts: [{ clientId: "c" }], deletes: ["a"] });
    expect(machine.sessionCount).toBe(2);
  });

  it("replaces every row after restore, deleting the rows of sessions the snapshot does not have", () => {
    const rows = new MemoryMetaRows();
    const machine = new KvStateMachine(new MemoryKvStore());
    applyAll(machine, [use("a", 1, 0), use("b", 1, 0)]);
    rows.write(machine.takeMetaChanges());
    const other = new KvStateMachine(new MemoryKvStore());
    applyAll(other, [use("c", 1, 5), use("b", 1, 6), use("b", 2, 7)]);
    expect(machine.restore(other.snapshot())).toEqual({ ok: true });
    const changes = machine.takeMetaChanges();
    expect(changes).toMatchObject({ replaceAll: true, deletes: [] });
    rows.write(changes);
    expect(rows.sessionsByOrder()).toEqual(sessionsOf(other));
    applyAll(machine, [use("c", 2, 8)]);
    expect(machine.takeMetaChanges()).toMatchObject({ replaceAll: false, upserts: [{ clientId: "c" }], deletes: [] });
  });

  it("keeps at most sessionsMax changed ids: past that it asks to replace every row", () => {
    const machine = new KvStateMachine(new MemoryKvStore(), { sessionsMax: 2 });
    machine.takeMetaChanges();
    applyAll(machine, ["a", "b", "c", "d", "e"].map((clientId) => use(clientId, 1, 0)));
    const changes = machine.takeMetaChanges();
    expect(changes).toMatchObject({ replaceAll: true, deletes: [] });
    expect(changes.upserts.map((session) => session.clientId)).toEqual(["d", "e"]);
  });
});

describe("reopening from session rows", () => {
  it("rebuilds the same sessions, order and counters from rows in any order", () => {
    const store = new MemoryKvStore();
    const rows = new MemoryMetaRows();
    const machine = new KvStateMachine(store, { sessionsMax: 3 });
    applyAll(machine, [use("a", 1, 0), use("b", 1, 0), use("c", 1, 0), use("a", 1, 0)]);
    rows.write(machine.takeMetaChanges());
    const reopened = new KvStateMachine(store, { sessionsMax: 3, ...rows.resumeOptions((list) => list.reverse()) });
    expect(reopened.metaSnapshot()).toEqual(machine.metaSnapshot());
    expect(reopened.takeMetaChanges()).toMatchObject({ replaceAll: false, upserts: [], deletes: [] });
    applyAll(machine, [use("d", 1, 0)]);
    applyAll(reopened, [use("d", 1, 0)]);
    expect(sessionsOf(reopened).map((session) => (session as { clientId: string }).clientId)).toEqual(["c", "a", "d"]);
    expect(reopened.metaSnapshot()).toEqual(machine.metaSnapshot());
  });

  it("reopens a blob that holds the sessions (written before session rows) and then writes them all as rows", () => {
    const store = new MemoryKvStore();
    const machine = new KvStateMachine(store);
    applyAll(machine, [use("a", 1, 0), use("b", 1, 3), use("a", 2, 3)]);
    const legacy = machine.metaSnapshot();
    const reopened = new KvStateMachine(store, { resume: legacy, resumeSessions: [] });
    expect(reopened.metaSnapshot()).toEqual(legacy);
    const changes = reopened.takeMetaChanges();
    expect(changes).toMatchObject({ replaceAll: true, deletes: [] });
    expect(idsOf(changes.upserts)).toEqual(["a", "b"]);
    const rows = new MemoryMetaRows();
    rows.write(changes);
    expect(new KvStateMachine(store, rows.resumeOptions()).metaSnapshot()).toEqual(legacy);
  });

  it("evicts the least recently used rows past a smaller sessionsMax, and reports them as deletes", () => {
    const store = new MemoryKvStore();
    const machine = new KvStateMachine(store, { sessionsMax: 3 });
    applyAll(machine, [use("a", 1, 0), use("b", 1, 0), use("c", 1, 0), use("a", 1, 0)]);
    const rows = new MemoryMetaRows();
    rows.write(machine.takeMetaChanges());
    const smaller = new KvStateMachine(store, { sessionsMax: 2, ...rows.resumeOptions((list) => list.reverse()) });
    expect(sessionsOf(smaller).map((session) => (session as { clientId: string }).clientId)).toEqual(["c", "a"]);
    expect(smaller.takeMetaChanges()).toMatchObject({ replaceAll: false, upserts: [], deletes: ["b"] });
  });

  it("refuses rows beside a blob that holds sessions, rows without counters, and rows with a repeated order", () => {
    const store = new MemoryKvStore();
    const machine = new KvStateMachine(store);
    applyAll(machine, [use("a", 1, 0), use("b", 1, 0)]);
    const rows = new MemoryMetaRows();
    rows.write(machine.takeMetaChanges());
    const stored = [...rows.rows.values()];
    expect(() => new KvStateMachine(store, { resume: machine.metaSnapshot(), resumeSessions: stored })).toThrow(/never both/);
    expect(() => new KvStateMachine(new MemoryKvStore(), { resumeSessions: stored })).toThrow(/counters/);
    const repeated = stored.map((session) => ({ ...session, order: 1 }));
    expect(() => new KvStateMachine(store, { resume: rows.counters, resumeSessions: repeated })).toThrow(/distinct/);
  });
});

const options = { sessionTtlMs: 50, sessionsMax: 3 };

/** One step: a command (small clock steps, so lastUsedMs ties are common), then what the host does. */
const step = fc.record({
  clientId: fc.constantFrom("a", "b", "c", "d", "e", "f"),
  seq: fc.integer({ min: 1, max: 4 }),
  timeStepMs: fc.constantFrom(0, 0, 0, 0, 1, 2, 30, 60),
  noop: fc.boolean(),
  after: fc.constantFrom("nothing", "nothing", "persist", "reopen", "restore"),
});

describe("a machine that reopens from its rows against one that never does", () => {
  it("evicts and expires exactly the same clients at the same entries, and its rows always match it", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), fc.nat(), (steps, shuffleSeed) => {
        const steady = new KvStateMachine(new MemoryKvStore(), options);
        const store = new MemoryKvStore();
        const rows = new MemoryMetaRows();
        let reopening = new KvStateMachine(store, options);
        let random = shuffleSeed;
        const shuffle = (list: StoredSession[]) => {
          for (let index = list.length - 1; index > 0; index--) {
            random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
            const other = random % (index + 1);
            [list[index], list[other]] = [list[other] as StoredSession, list[index] as StoredSession];
          }
          return list;
        };
        let timeMs = 0;
        steps.forEach((item, position) => {
          timeMs += item.timeStepMs;
          const operation = item.noop ? ({ type: "noop" } as const) : put(item.clientId, `${position}`);
          const data = encodeCommand({ clientId: item.clientId, seq: item.seq, timeMs, operation });
          expect(reopening.apply(position + 1, data)).toEqual(steady.apply(position + 1, data));
          expect(reopening.metaSnapshot()).toEqual(steady.metaSnapshot());
          if (item.after === "restore") expect(reopening.restore(steady.snapshot())).toEqual({ ok: true });
          if (item.after === "nothing" || item.after === "restore") return;
          rows.write(reopening.takeMetaChanges());
          expect(rows.sessionsByOrder()).toEqual(sessionsOf(reopening));
          if (item.after === "reopen") reopening = new KvStateMachine(store, { ...options, ...rows.resumeOptions(shuffle) });
        });
        expect(reopening.snapshot()).toEqual(steady.snapshot());
      }),
      { numRuns: 300 },
    );
  });
});
