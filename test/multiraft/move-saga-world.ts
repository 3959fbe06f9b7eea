/**
 * The model the move saga's tests run on (test/multiraft/move-saga.test.ts): groups that are one
 * real KV state machine each, fed encoded commands in log order (no Raft), a range table with a
 * version as the metadata group keeps it, a router's writes, and saga drivers that record their
 * progress by compare-and-set and carry out the route step as its reads, then its write.
 */
import { expect } from "vitest";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import type { Operation, RangeChange } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import type { ApplyResult } from "../../src/kv/result.ts";
import type { Span } from "../../src/kv/span.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import { entriesWithin, lookupKey, singleGroupTable, type RangeTable } from "../../src/multiraft/keyspace.ts";
import { advance, isFinished, nextAction, routedTable, startMove, type MoveOutcome, type MoveSaga } from "../../src/multiraft/move-saga.ts";

/** A group: one state machine and its next log index. */
export class Group {
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

/** What a route step read: the table with its version, then what the target served. */
export interface RouteRead {
  readonly table: RangeTable;
  readonly version: number;
  readonly served: readonly Span[];
}

/** The world: groups A, B and C, the range table with its version (as the metadata group keeps it), and the acknowledged writes. */
export class World {
  readonly groups = new Map([["A", new Group()], ["B", new Group()], ["C", new Group()]]);
  table: RangeTable = singleGroupTable("range", "A");
  tableVersion = 1;
  readonly acknowledged = new Map<string, { value: string; version: number }>();

  constructor() {
    this.group("A").change({ action: "init", mode: "range", spans: [{ start: "" }] });
    this.group("B").change({ action: "init", mode: "range", spans: [] });
    this.group("C").change({ action: "init", mode: "range", spans: [] });
  }

  group(name: string): Group {
    return this.groups.get(name)!;
  }

  /** A router's write: routes by its table, follows "moved to" hints, gives up on a frozen range. */
  write(key: string, value: string, session: { clientId: string; seq: number }, retry = false): void {
    let target = lookupKey(this.table, key).group;
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
        this.routeWrite(this.routeRead(action.to), action.span, action.to);
        return { kind: "routed" };
      case "finished":
        throw new Error("no action after the end");
    }
  }

  /** A route step's reads: the table first, then the target's ownership (linearizable: the group's applied state). */
  routeRead(to: string): RouteRead {
    return { table: this.table, version: this.tableVersion, served: this.group(to).machine.ownership?.spans ?? [] };
  }

  /** A route step's write: compare-and-set on the version read, also when nothing changes; false on a conflict. */
  routeWrite(read: RouteRead, span: Span, to: string): boolean {
    if (read.version !== this.tableVersion) return false;
    this.table = routedTable(read.table, span, to, read.served);
    this.tableVersion++;
    return true;
  }

  /** Every key's table entry names the one group that serves it. */
  checkTable(keys: readonly string[]): void {
    for (const key of keys) {
      const serving = [...this.groups].filter(([, group]) => group.machine.read(key).ok).map(([name]) => name);
      expect({ key, named: lookupKey(this.table, key).group }).toEqual({ key, named: serving[0] });
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

/** A driver of one of many sagas: its copy, the record version it read, an outcome it has not recorded yet, a route read it has not written yet. */
export interface Driver {
  saga: MoveSaga;
  version: number;
  next?: MoveSaga;
  read?: RouteRead;
}

/** Many sagas moving parts of `span` around A, B and C, each recorded by compare-and-set, with any number of drivers each. */
export class Sagas {
  readonly records: { saga: MoveSaga; version: number }[] = [];
  readonly drivers: Driver[] = [];
  /** Every table the metadata group held: planners may read an old one. */
  private readonly tables: RangeTable[];
  private readonly world: World;

  constructor(world: World) {
    this.world = world;
    this.tables = [world.table];
  }

  /** Starts a saga moving the first range of `piece` in a table read `age` changes ago (clamped) to `to`. */
  plan(piece: Span, to: string, age: number): void {
    const table = this.tables[Math.max(0, this.tables.length - 1 - age)]!;
    const entry = entriesWithin(table, piece)[0]!;
    if (entry.group === to) return;
    const saga = startMove(`m${this.records.length + 1}`, { start: entry.start, ...(entry.end === undefined ? {} : { end: entry.end }) }, entry.group, to);
    this.records.push({ saga, version: 1 });
    this.drivers.push({ saga, version: 1 });
  }

  /** The driver carries out its saga's current step; a route step is two: the reads, then the compare-and-set. */
  act(driver: Driver): void {
    if (driver.next !== undefined || isFinished(driver.saga)) return;
    if (driver.saga.phase !== "route") {
      driver.next = advance(driver.saga, this.world.act(driver.saga));
      return;
    }
    if (driver.read === undefined) {
      driver.read = this.world.routeRead(driver.saga.to);
      return;
    }
    const written = this.world.routeWrite(driver.read, driver.saga.span, driver.saga.to);
    delete driver.read;
    if (!written) return; // a conflict: read again
    this.tables.push(this.world.table);
    driver.next = advance(driver.saga, { kind: "routed" });
  }

  /** The driver records its outcome by compare-and-set; on a conflict it adopts the record. */
  record(driver: Driver): void {
    if (driver.next === undefined) return;
    const record = this.records.find((candidate) => candidate.saga.id === driver.saga.id)!;
    if (record.version === driver.version) {
      record.saga = driver.next;
      record.version++;
    }
    driver.saga = record.saga;
    driver.version = record.version;
    delete driver.next;
  }

  /** Runs every driver to its end, one after the other, the newest first (so the stalest wake last: they act, lose the race, adopt the record). */
  finish(): void {
    for (const driver of [...this.drivers].reverse()) {
      for (let turn = 0; !isFinished(driver.saga) || driver.next !== undefined; turn++) {
        expect(turn).toBeLessThan(100);
        this.act(driver);
        this.record(driver);
      }
    }
  }
}
