/**
 * Proves the move saga on real KV state machines (no Raft: each group is one state machine fed
 * encoded commands in log order): under random interleavings of client writes, saga steps, driver
 * crashes (the recorded phase is repeated) and a second racing driver, no key is ever served by two
 * groups, no acknowledged write is lost, versions only grow, a retried write applies once, and
 * the routing table ends up agreeing with the groups' ownership.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import type { Operation, RangeChange } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import type { ApplyResult } from "../../src/kv/result.ts";
import { spanContains, type Span } from "../../src/kv/span.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import { advance, isFinished, nextAction, startMove, type MoveOutcome, type MoveSaga } from "../../src/multiraft/move-saga.ts";

/** A group: one state machine and its next log index. */
class Group {
  readonly machine = new KvStateMachine(new MemoryKvStore());
  private index = 0;
  private seq = 0;

  propose(operation: Operation, session?: { clientId: string; seq: number }): ApplyResult {
    const command = { clientId: session?.clientId ?? "driver", seq: session?.seq ?? ++this.seq, timeMs: 1, operation };
    return this.machine.apply(++this.index, encodeCommand(command));
  }

  change(change: RangeChange): ApplyResult {
    return this.propose({ type: "range", change });
  }
}

/** The world: groups A and B, a routing table (span -> group, as the metadata group keeps it), and the acknowledged writes. */
class World {
  readonly groups = new Map([["A", new Group()], ["B", new Group()]]);
  route: { span: Span; group: string }[] = [{ span: { start: "" }, group: "A" }];
  readonly acknowledged = new Map<string, { value: string; version: number }>();

  constructor() {
    this.group("A").change({ action: "init", mode: "range", spans: [{ start: "" }] });
    this.group("B").change({ action: "init", mode: "range", spans: [] });
  }

  group(name: string): Group {
    return this.groups.get(name)!;
  }

  /** A router's write: routes by its table, follows "moved to" hints, gives up on a frozen range. */
  write(key: string, value: string, session: { clientId: string; seq: number }, retry = false): void {
    let target = this.route.find((entry) => spanContains(entry.span, key))!.group;
    for (let hop = 0; hop < 3; hop++) {
      const result = this.group(target).propose({ type: "put", key, value: new TextEncoder().encode(value) }, session);
      if (result.ok && result.type === "put") {
        const before = this.acknowledged.get(key)?.version ?? 0;
        if (retry && result.version <= before) return; // answered from the session: applied once, earlier
        expect(result.version).toBeGreaterThan(before);
        this.acknowledged.set(key, { value, version: result.version });
        return;
      }
      if (result.ok || result.code !== "wrongRange" || result.movedTo === undefined) return;
      target = result.movedTo;
    }
  }

  /** Carries out one saga action and returns its outcome. */
  act(saga: MoveSaga): MoveOutcome {
    const action = nextAction(saga);
    switch (action.kind) {
      case "propose": {
        const result = this.group(action.group).change(action.change);
        return result.ok ? { kind: "applied" } : { kind: "refused", reason: "code" in result ? result.code : "refused" };
      }
      case "copy": {
        const page = this.group(action.from).machine.exportRange(action.saga, action.span, action.cursor);
        if (page === undefined) return { kind: "refused", reason: "not frozen" };
        const result = this.group(action.to).change({ action: "install", saga: action.saga, span: action.span, records: page.records, sessions: page.sessions, versionFloor: page.versionFloor });
        if (!result.ok) return { kind: "refused", reason: "install refused" };
        return page.cursor === undefined ? { kind: "copied", records: page.records.length } : { kind: "copied", records: page.records.length, cursor: page.cursor };
      }
      case "route":
        this.route = [...this.route.flatMap((entry) => splitOff(entry, action.span)), { span: action.span, group: action.to }];
        return { kind: "routed" };
      case "finished":
        throw new Error("no action after the end");
    }
  }

  /** Every key is served by at most one group, and acknowledged writes are readable where they are served. */
  checkServing(keys: readonly string[]): void {
    for (const key of keys) {
      const serving = [...this.groups.values()].map((group) => group.machine.read(key)).filter((read) => read.ok);
      expect(serving.length).toBeLessThanOrEqual(1);
      const acknowledged = this.acknowledged.get(key);
      const read = serving[0];
      if (acknowledged !== undefined && read !== undefined && read.ok) {
        expect(read.record?.version).toBe(acknowledged.version);
        expect(new TextDecoder().decode(read.record!.value)).toBe(acknowledged.value);
      }
    }
  }
}

/** `entry` minus `span` (the routing table keeps the rest of it). */
function splitOff(entry: { span: Span; group: string }, span: Span): { span: Span; group: string }[] {
  const pieces: { span: Span; group: string }[] = [];
  if (entry.span.start < span.start) pieces.push({ span: { start: entry.span.start, end: span.start }, group: entry.group });
  if (span.end !== undefined && (entry.span.end === undefined || span.end < entry.span.end)) {
    const start = span.end > entry.span.start ? span.end : entry.span.start;
    pieces.push({ span: entry.span.end === undefined ? { start } : { start, end: entry.span.end }, group: entry.group });
  }
  return pieces.filter((piece) => piece.span.end === undefined || piece.span.start < piece.span.end);
}

const keys = ["a", "b", "c", "k1", "k2", "m", "x", "y", "z"];
const span: Span = { start: "k", end: "n" };

type Step = { kind: "write"; key: string; client: number } | { kind: "saga"; driver: 0 | 1 } | { kind: "crash"; driver: 0 | 1 } | { kind: "retry"; client: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), key: fc.constantFrom(...keys), client: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("saga" as const), driver: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant("crash" as const), driver: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant("retry" as const), client: fc.integer({ min: 0, max: 2 }) }),
);

describe("the move saga over KV state machines", () => {
  it("moves a span with its records, versions and sessions, and routes it", () => {
    const world = new World();
    for (const key of keys) world.write(key, `v-${key}`, { clientId: `c-${key}`, seq: 1 });
    let saga = startMove("m1", span, "A", "B");
    while (!isFinished(saga)) saga = advance(saga, world.act(saga));
    expect(saga.phase).toBe("done");
    expect(saga.copied).toBe(3); // k1, k2 and m
    world.checkServing(keys);
    expect(world.group("A").machine.read("k1")).toMatchObject({ ok: false, code: "wrongRange", movedTo: "B" });
    // A retry of a write applied at A before the move is answered from the session the move carried.
    const retried = world.group("B").propose({ type: "put", key: "k1", value: new Uint8Array([1]) }, { clientId: "c-k1", seq: 1 });
    expect(retried).toEqual({ ok: true, type: "put", version: world.acknowledged.get("k1")!.version });
    // New writes at B take versions above everything A handed out.
    world.write("k2", "after", { clientId: "late", seq: 1 });
    expect(world.acknowledged.get("k2")!.version).toBeGreaterThan(world.group("A").machine.versionCounter);
  });

  it("refuses writes to a frozen span without recording them, so the retry applies once afterwards", () => {
    const world = new World();
    let saga = startMove("m1", span, "A", "B");
    saga = advance(saga, world.act(saga)); // freeze
    const frozen = world.group("A").propose({ type: "put", key: "k1", value: new Uint8Array([1]) }, { clientId: "c", seq: 7 });
    expect(frozen).toMatchObject({ ok: false, code: "rangeFrozen" });
    while (!isFinished(saga)) saga = advance(saga, world.act(saga));
    const applied = world.group("B").propose({ type: "put", key: "k1", value: new Uint8Array([1]) }, { clientId: "c", seq: 7 });
    expect(applied).toMatchObject({ ok: true, type: "put" });
  });

  it("rolls back cleanly: the source serves again and the target keeps nothing", () => {
    const world = new World();
    world.write("k1", "one", { clientId: "c", seq: 1 });
    let saga = startMove("m1", span, "A", "B");
    saga = advance(saga, world.act(saga)); // freeze
    saga = advance(saga, world.act(saga)); // copy (one page)
    expect(saga.phase).toBe("release");
    saga = { ...saga, phase: "unfreeze" }; // an operator cancels before the commit point
    while (!isFinished(saga)) saga = advance(saga, world.act(saga));
    expect(saga.phase).toBe("rolledBack");
    expect(world.group("B").machine.get("k1")).toBeUndefined();
    world.write("k1", "two", { clientId: "c", seq: 2 });
    expect(world.acknowledged.get("k1")!.value).toBe("two");
    world.checkServing(keys);
    // The rolled-back saga can never freeze again, so a stale driver cannot restart it.
    expect(world.group("A").change({ action: "freeze", saga: "m1", span })).toMatchObject({ ok: false, code: "rangeRefused" });
  });

  it("never serves a key twice or loses a write under crashes, retries and a racing driver", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 10, maxLength: 80 }), (steps) => {
        const world = new World();
        let recorded = startMove("m1", span, "A", "B"); // what the metadata group holds
        const drivers: (MoveSaga | undefined)[] = [undefined, undefined];
        const last: ({ key: string; value: string; seq: number } | undefined)[] = [undefined, undefined, undefined];
        for (const step of steps) {
          const clientId = `client-${step.kind === "write" || step.kind === "retry" ? step.client : 0}`;
          if (step.kind === "write") {
            const seq = (last[step.client]?.seq ?? 0) + 1;
            last[step.client] = { key: step.key, value: `${step.key}-${clientId}-${seq}`, seq };
            world.write(step.key, last[step.client]!.value, { clientId, seq });
          } else if (step.kind === "retry") {
            const write = last[step.client];
            // A retry of a write that was acknowledged returns the same version: the session answers it.
            const before = write === undefined ? undefined : world.acknowledged.get(write.key);
            if (write !== undefined) world.write(write.key, write.value, { clientId, seq: write.seq }, true);
            if (write !== undefined && before?.value === write.value) expect(world.acknowledged.get(write.key)).toEqual(before);
          }
          else if (step.kind === "crash") drivers[step.driver] = undefined;
          else if (step.kind === "saga") {
            const saga = drivers[step.driver] ?? recorded;
            if (isFinished(saga)) continue;
            const next = advance(saga, world.act(saga));
            drivers[step.driver] = next;
            recorded = next; // the driver records its progress (the last writer wins, as a CAS retry would)
          }
          world.checkServing(keys);
        }
        while (!isFinished(recorded)) recorded = advance(recorded, world.act(recorded));
        world.checkServing(keys);
        for (const key of keys) {
          const owner = world.route.find((entry) => spanContains(entry.span, key))!.group;
          expect(world.group(owner).machine.read(key).ok).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
