/**
 * Proves the move saga on real KV state machines (no Raft: each group is one state machine fed
 * encoded commands in log order): under random interleavings of client writes, saga steps, driver
 * crashes (the recorded phase is repeated) and a second racing driver, no key is ever served by two
 * groups, no acknowledged write is lost, versions only grow, a retried write applies once, and
 * the routing table ends up agreeing with the groups' ownership. And that the route step stays
 * right with many sagas moving a span around three groups, planned from stale tables, under
 * drivers that lose their outcome, race, and wake with a stale copy to route again (each route
 * step split into its read and its compare-and-set, with other steps between them): once every
 * driver is done, every key's table entry names the group that serves it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Span } from "../../src/kv/span.ts";
import { lookupKey } from "../../src/multiraft/keyspace.ts";
import { advance, isFinished, startMove, type MoveSaga } from "../../src/multiraft/move-saga.ts";
import { Sagas, World, type Driver } from "./move-saga-world.ts";

const keys = ["a", "b", "c", "k1", "k2", "m", "x", "y", "z"];
const span: Span = { start: "k", end: "n" };

type Step = { kind: "write"; key: string; client: number } | { kind: "saga"; driver: 0 | 1 } | { kind: "crash"; driver: 0 | 1 } | { kind: "retry"; client: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), key: fc.constantFrom(...keys), client: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("saga" as const), driver: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant("crash" as const), driver: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ kind: fc.constant("retry" as const), client: fc.integer({ min: 0, max: 2 }) }),
);

const pieces: Span[] = [span, { start: "k", end: "l" }, { start: "l", end: "n" }];

/**
 * One saga of the stale-driver property: which piece of the span it moves (its source read from a
 * table `age` changes old) to `to`; its driver goes stale after its `loseAt`-th step (a copy that
 * lost that step's outcome, with the route read it holds when `keepRead`, sleeps until `wakeAfter`
 * sagas later) and either goes on (`stops` false) or dies there, leaving the saga to the copy.
 */
interface Hop {
  piece: number;
  to: string;
  age: number;
  loseAt: number;
  wakeAfter: number;
  keepRead: boolean;
  stops: boolean;
}

const hopArbitrary: fc.Arbitrary<Hop> = fc.record({
  piece: fc.nat(pieces.length - 1),
  to: fc.constantFrom("A", "B", "C"),
  age: fc.nat(3),
  loseAt: fc.nat(9),
  wakeAfter: fc.nat(3),
  keepRead: fc.boolean(),
  stops: fc.boolean(),
});

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

  it("ignores a stale driver's acquire or install after the saga ended in the target (found by the multi-group simulator)", () => {
    const world = new World();
    world.write("k1", "one", { clientId: "c", seq: 1 });
    let there = startMove("m1", span, "A", "B");
    const staleCopy = world.group("A").machine.exportRange("m1", span); // undefined: not frozen yet
    expect(staleCopy).toBeUndefined();
    there = advance(there, world.act(there)); // freeze
    const page = world.group("A").machine.exportRange("m1", span)!; // what a slow driver holds
    while (!isFinished(there)) there = advance(there, world.act(there));
    let back = startMove("m2", span, "B", "A");
    while (!isFinished(back)) back = advance(back, world.act(back));
    expect(back.phase).toBe("done");
    // The slow driver of m1 wakes up in acquire: B no longer serves the span, yet the step is a no-op, not a refusal.
    expect(world.group("B").change({ action: "acquire", saga: "m1", span })).toMatchObject({ ok: true, type: "range" });
    expect(world.group("B").machine.read("k1")).toMatchObject({ ok: false, code: "wrongRange" });
    // Its late install writes nothing and leaves no incoming span behind.
    const install = { action: "install" as const, saga: "m1", span, records: page.records, sessions: page.sessions, versionFloor: page.versionFloor };
    expect(world.group("B").change(install)).toMatchObject({ ok: true });
    expect(world.group("B").machine.get("k1")).toBeUndefined();
    expect(world.group("B").machine.ownership!.incoming).toEqual([]);
    // A rolled-back saga: an install arriving after abortInstall is refused and stores nothing.
    let cancelled = startMove("m3", span, "A", "B");
    cancelled = advance(cancelled, world.act(cancelled)); // freeze
    const late = world.group("A").machine.exportRange("m3", span)!;
    cancelled = { ...cancelled, phase: "unfreeze" };
    while (!isFinished(cancelled)) cancelled = advance(cancelled, world.act(cancelled));
    const lateInstall = { action: "install" as const, saga: "m3", span, records: late.records, sessions: late.sessions, versionFloor: late.versionFloor };
    expect(world.group("B").change(lateInstall)).toMatchObject({ ok: false, code: "rangeRefused" });
    expect(world.group("B").machine.get("k1")).toBeUndefined();
    expect(world.group("B").machine.ownership!.incoming).toEqual([]);
    world.checkServing(keys);
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
        world.checkTable(keys);
      }),
      { numRuns: 300 },
    );
  });

  it("a driver that routed, lost its outcome and routes again after the span moved on leaves the table naming the new owner", () => {
    const world = new World();
    for (const key of keys) world.write(key, `v-${key}`, { clientId: `c-${key}`, seq: 1 });
    const sagas = new Sagas(world);
    sagas.plan(span, "B", 0);
    const stale = sagas.drivers[0]!;
    while (stale.saga.phase !== "route") {
      sagas.act(stale);
      sagas.record(stale);
    }
    sagas.act(stale); // the route step's reads
    sagas.act(stale); // its write: the table names B
    expect(lookupKey(world.table, "k1").group).toBe("B");
    delete stale.next; // it stalls before recording: it will do its route step again
    sagas.drivers.push({ ...sagas.records[0]! }); // another driver resumes m1 and finishes it
    sagas.plan(span, "C", 0); // then m2 moves the span on to C
    for (const driver of sagas.drivers.slice(1)) {
      while (!isFinished(driver.saga)) {
        sagas.act(driver);
        sagas.record(driver);
      }
    }
    expect(sagas.records.map((record) => record.saga.phase)).toEqual(["done", "done"]);
    expect(lookupKey(world.table, "k1").group).toBe("C");
    sagas.finish(); // the stale driver wakes: its route step changes nothing, its record loses the race
    expect(stale.saga.phase).toBe("done");
    world.checkTable(keys);
  });

  it("writes the table in a route step that changes nothing, so an older route read cannot land after it", () => {
    const world = new World();
    for (const key of keys) world.write(key, `v-${key}`, { clientId: `c-${key}`, seq: 1 });
    const sagas = new Sagas(world);
    const runToEnd = (driver: Driver) => {
      while (!isFinished(driver.saga)) {
        sagas.act(driver);
        sagas.record(driver);
      }
    };
    sagas.plan(span, "B", 0);
    runToEnd(sagas.drivers[0]!); // m1: A -> B
    sagas.plan(span, "C", 0);
    runToEnd(sagas.drivers[1]!); // m2: B -> C
    sagas.plan(span, "B", 0); // m3: C -> B, whose driver reads the table and B's ownership, then stalls
    const slow = sagas.drivers[2]!;
    while (slow.read === undefined) {
      sagas.act(slow);
      sagas.record(slow);
    }
    sagas.plan(span, "C", 1); // m4, planned from the table of m1's time: B -> C (B serves the span again)
    runToEnd(sagas.drivers[3]!);
    expect(lookupKey(world.table, "k1").group).toBe("C"); // m4's route found C named already, and wrote
    runToEnd(slow); // its compare-and-set fails, it reads again: B serves nothing, so it names nobody
    world.checkTable(keys);
  });

  it("routes every span to the group serving it, whatever stale drivers and stale plans do (found by the multi-group simulator)", () => {
    fc.assert(
      fc.property(fc.array(hopArbitrary, { minLength: 1, maxLength: 8 }), (hops) => {
        const world = new World();
        for (const key of keys) world.write(key, `v-${key}`, { clientId: `c-${key}`, seq: 1 });
        const sagas = new Sagas(world);
        const sleeping: { driver: Driver; wakeAt: number }[] = [];
        const runToEnd = (driver: Driver) => {
          for (let turn = 0; !isFinished(driver.saga) || driver.next !== undefined; turn++) {
            expect(turn).toBeLessThan(100);
            sagas.act(driver);
            sagas.record(driver);
          }
        };
        hops.forEach((hop, index) => {
          for (const asleep of sleeping.filter((candidate) => candidate.wakeAt === index)) runToEnd(asleep.driver);
          const planned = sagas.drivers.length;
          sagas.plan(pieces[hop.piece]!, hop.to, hop.age);
          const main = sagas.drivers[planned];
          if (main === undefined) return;
          for (let steps = 0; !isFinished(main.saga) || main.next !== undefined; steps++) {
            expect(steps).toBeLessThan(100);
            sagas.act(main);
            if (steps === hop.loseAt) {
              const stale: Driver = { saga: main.saga, version: main.version, ...(hop.keepRead && main.read !== undefined ? { read: main.read } : {}) };
              sagas.drivers.push(stale);
              sleeping.push({ driver: stale, wakeAt: index + 1 + hop.wakeAfter });
              if (hop.stops) break;
            }
            sagas.record(main);
          }
          world.checkServing(keys);
        });
        for (const asleep of sleeping.reverse()) runToEnd(asleep.driver); // the stalest wake last
        sagas.finish();
        world.checkServing(keys);
        world.checkTable(keys);
      }),
      { numRuns: 300 },
    );
  });
});
