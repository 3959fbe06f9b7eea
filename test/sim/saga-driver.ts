/**
 * The reshaping side of the multi-group world: a planner that starts random moves, splits (a move
 * to a fresh group) and merges (every range of a group moved to an adjacent one), and saga drivers
 * that carry out each move's steps through the groups' replicas the way the router's MoveDriver
 * does: each action proposed at a leader and awaited, each outcome recorded in the saga's metadata
 * record (a conditional put in the metadata group) before the next step. A driver crashes at any step (it forgets
 * everything; a new driver resumes from the record after some silence) or stalls and wakes up later
 * with its stale copy, racing the driver that resumed the saga.
 */
import type { Rng } from "../../src/shared/rng.ts";
import { encodeCommand, type ApplyResult, type Operation as KvOperation } from "../../src/kv/index.ts";
import type { RangeChange } from "../../src/kv/command.ts";
import { spanOf, type Span } from "../../src/kv/span.ts";
import { adjacent, entriesWithin, spansOf } from "../../src/multiraft/keyspace.ts";
import { advance, isFinished, nextAction, rollBack, routedTable, startMove, type MoveAction, type MoveOutcome, type MoveSaga, type MovePhase } from "../../src/multiraft/move-saga.ts";
import { noNode, type NodeId } from "../../src/raft/types.ts";
import { tickMs } from "./options.ts";
import { encodeJson, metadataGroup, sagaKeyPrefix, tableKey, type MultiGroupWorld } from "./multigroup-world.ts";

/** Most groups a run creates (each split makes one). */
const groupsMax = 6;
/** Ticks a saga record must be silent before a new driver resumes it. */
const resumeAfterTicks = 40;

/** Counters of the reshaping, for reports. */
export interface ReshapeStats {
  operations: number;
  sagasDone: number;
  sagasRolledBack: number;
  driverCrashes: Partial<Record<MovePhase, number>>;
  driverStalls: number;
  racingRecords: number;
  /** Route steps carried out by a driver whose saga the metadata group already records as finished (a stale driver). */
  staleRoutes: number;
  /** Why sagas rolled back, by reason. */
  rolledBackReasons: Record<string, number>;
  /** Intents and transaction records in the pages installed (a page copied twice counts twice). */
  carriedIntents: number;
  carriedTxnRecords: number;
  /** Sagas that committed after a page of theirs carried intents or transaction records. */
  sagasDoneCarryingTxns: number;
}

/**
 * Driver faults. The default mix crashes or stalls a driver at every step now and then; the stale
 * drivers focus stalls most drivers right after their route step, for long, so that the span has
 * often moved on when they wake and route it again (`npm run sim:multigroup -- --stale-drivers`).
 */
export interface ReshapeFocus {
  readonly staleDrivers?: boolean;
}

/** One move saga's driver: its copy of the saga, the record version it read, and the action in flight. */
interface Driver {
  readonly name: string;
  saga: MoveSaga;
  version: number;
  seq: number;
  /** Changes whenever an action is abandoned, so a late callback of it is ignored. */
  token: number;
  inFlight: boolean;
  deadline: number;
  /** Attempts of the current step that timed out: each waits twice as long (a slow group is not flooded with retries). */
  timeouts: number;
  stalledUntil: number;
  guesses: Map<string, NodeId>;
  /** The saga's next state, to record in the metadata group before the next step (version 0: create the record). */
  pending: MoveSaga | null;
}

/** A split, merge or move: the moves still to start, one saga at a time. */
interface Operation {
  readonly kind: "move" | "split" | "merge";
  readonly moves: { span: Span; to: string }[];
  saga: string | null;
}

/** Plans reshaping operations and drives their sagas. */
export class Reshaper {
  readonly stats: ReshapeStats = { operations: 0, sagasDone: 0, sagasRolledBack: 0, driverCrashes: {}, driverStalls: 0, racingRecords: 0, staleRoutes: 0, rolledBackReasons: {}, carriedIntents: 0, carriedTxnRecords: 0, sagasDoneCarryingTxns: 0 };
  /** No new operation starts, and drivers no longer crash (the healing phase). */
  calm = false;
  private readonly world: MultiGroupWorld;
  private readonly rng: Rng;
  private readonly drivers: Driver[] = [];
  private readonly operations: Operation[] = [];
  private readonly touchedAt = new Map<string, number>();
  /** Sagas a page of which carried transaction state into its target. */
  private readonly carryingTxns = new Set<string>();
  private readonly timeoutTicks: number;
  private counter = 0;
  private readonly staleDrivers: boolean;

  constructor(world: MultiGroupWorld, rng: Rng, focus: ReshapeFocus = {}) {
    this.world = world;
    this.rng = rng;
    this.staleDrivers = focus.staleDrivers === true;
    this.timeoutTicks = world.options.workload.requestTimeoutTicks;
  }

  /**
   * Whether every operation ended, every saga record is finished, and no driver is left: also a
   * stalled one, which wakes with a stale copy of its saga and may still act on the groups or the
   * table (the final checks must see what it did).
   */
  get idle(): boolean {
    return this.drivers.length === 0 && this.operations.length === 0 && [...this.world.sagas.values()].every((record) => isFinished(record.value));
  }

  /** One tick: maybe start an operation, advance operations, resume silent sagas, run the drivers. */
  onTick(): void {
    if (!this.calm && this.operations.length < 2 && this.rng.chance(0.03)) this.plan();
    for (const operation of [...this.operations]) this.advanceOperation(operation);
    this.resumeSilent();
    for (const driver of [...this.drivers]) this.runDriver(driver);
  }

  private plan(): void {
    const roll = this.rng.int(3);
    const table = this.world.table.value;
    const groups = [...this.world.groups.keys()];
    let operation: Operation | null = null;
    if (roll === 0 && this.world.groups.size < groupsMax) {
      const entry = table.ranges[this.rng.int(table.ranges.length)]!;
      const at = this.cutInside(entry);
      if (at === undefined) return;
      const name = `g${this.world.groups.size + 1}`;
      this.world.createGroup(name, []);
      const upper = spansOf(table, entry.group).filter((span) => span.start >= at || (span.start < at && (span.end === undefined || span.end > at)));
      const moves = upper.map((span) => ({ span: span.start >= at ? span : spanOf(at, span.end), to: name }));
      operation = { kind: "split", moves, saga: null };
    } else if (roll === 1) {
      const name = groups[this.rng.int(groups.length)]!;
      const other = groups.find((candidate) => candidate !== name && spansOf(table, candidate).length > 0 && adjacent(table, name, candidate));
      if (other === undefined) return;
      operation = { kind: "merge", moves: spansOf(table, other).map((span) => ({ span, to: name })), saga: null };
    } else {
      const entry = table.ranges[this.rng.int(table.ranges.length)]!;
      const start = this.rng.chance(0.5) ? entry.start : (this.cutInside(entry) ?? entry.start);
      const end = this.rng.chance(0.5) ? entry.end : this.cutAfter(start, entry.end);
      const others = groups.filter((group) => group !== entry.group);
      operation = { kind: "move", moves: [{ span: spanOf(start, end), to: others[this.rng.int(others.length)]! }], saga: null };
    }
    this.stats.operations++;
    this.operations.push(operation);
    this.world.log(`reshape: ${operation.kind} ${operation.moves.map((move) => `${describeSpan(move.span)} -> ${move.to}`).join(", ")}`);
  }

  /** A key strictly inside the entry, to cut it at (undefined when none). */
  private cutInside(entry: Span): string | undefined {
    const inside = this.world.keys.filter((key) => key > entry.start && (entry.end === undefined || key < entry.end));
    return inside.length === 0 ? undefined : inside[this.rng.int(inside.length)];
  }

  private cutAfter(start: string, end: string | undefined): string | undefined {
    const inside = this.world.keys.filter((key) => key > start && (end === undefined || key < end));
    return inside.length === 0 ? end : inside[this.rng.int(inside.length)];
  }

  /** Starts the operation's next move once its previous saga finished; ends the operation after the last. */
  private advanceOperation(operation: Operation): void {
    if (operation.saga !== null && !this.sagaOver(operation.saga)) return;
    const move = operation.moves.shift();
    if (move === undefined) {
      this.operations.splice(this.operations.indexOf(operation), 1);
      return;
    }
    // As Reshape.move: one saga per range of another group inside the span (re-read from the table now).
    const pieces = entriesWithin(this.world.table.value, move.span).filter((entry) => entry.group !== move.to);
    const piece = pieces[0];
    if (piece === undefined) {
      operation.saga = null;
      return;
    }
    if (pieces.length > 1) operation.moves.unshift(move); // the rest of the span next time
    const id = `m${++this.counter}`;
    const saga = startMove(id, spanOf(piece.start, piece.end), piece.group, move.to);
    this.touchedAt.set(id, this.world.now);
    operation.saga = id;
    this.addDriver(saga, 0, saga); // its first step records the saga
    this.world.log(`saga ${id}: move ${describeSpan(saga.span)} from ${saga.from} to ${saga.to}`);
  }

  /** Whether a saga ended, or was never recorded and no driver will record it (its driver crashed first). */
  private sagaOver(id: string): boolean {
    const record = this.world.sagas.get(id);
    if (record !== undefined) return isFinished(record.value);
    return !this.drivers.some((driver) => driver.saga.id === id);
  }

  private addDriver(saga: MoveSaga, version: number, pending: MoveSaga | null = null): void {
    this.drivers.push({ name: `driver${++this.counter}`, saga, version, seq: 0, token: 0, inFlight: false, deadline: 0, timeouts: 0, stalledUntil: 0, guesses: new Map(), pending });
  }

  /** A saga no running driver advanced for a while is resumed from its record by a new driver. */
  private resumeSilent(): void {
    for (const [id, record] of this.world.sagas) {
      if (isFinished(record.value)) continue;
      if (this.world.now - (this.touchedAt.get(id) ?? 0) < resumeAfterTicks) continue;
      if (this.drivers.some((driver) => driver.saga.id === id && driver.stalledUntil <= this.world.now)) continue;
      this.touchedAt.set(id, this.world.now);
      this.world.log(`saga ${id}: resumed from its record (${record.value.phase})`);
      this.addDriver(record.value, record.version);
    }
  }

  private runDriver(driver: Driver): void {
    const now = this.world.now;
    if (driver.stalledUntil > now) return;
    if (driver.inFlight && now < driver.deadline) return;
    if (driver.inFlight) {
      driver.token++; // timed out: try again, waiting longer
      driver.timeouts = Math.min(driver.timeouts + 1, 5);
    }
    driver.inFlight = false;
    if (!this.calm && this.rng.chance(0.01)) {
      this.crash(driver, "before its step");
      return;
    }
    driver.inFlight = true;
    driver.deadline = now + this.timeoutTicks * 2 ** driver.timeouts;
    if (driver.pending !== null) {
      this.record(driver, driver.pending, driver.token);
      return;
    }
    if (!this.calm && driver.saga.phase === "copy" && this.rng.chance(0.02)) {
      driver.pending = rollBack(driver.saga, "cancelled by an operator");
      this.record(driver, driver.pending, driver.token);
      return;
    }
    const action = nextAction(driver.saga);
    if (action.kind === "finished") {
      this.drivers.splice(this.drivers.indexOf(driver), 1);
      return;
    }
    this.carry(driver, action, driver.token);
  }

  /** Crashes a driver (forgets it) or stalls it (it comes back later with its stale saga); `stall` rules out the crash. */
  private crash(driver: Driver, where: string, stall = false): void {
    const phase = driver.saga.phase;
    driver.token++;
    driver.inFlight = false;
    if (this.rng.chance(0.5) && !stall) {
      this.stats.driverCrashes[phase] = (this.stats.driverCrashes[phase] ?? 0) + 1;
      this.drivers.splice(this.drivers.indexOf(driver), 1);
      this.world.log(`saga ${driver.saga.id}: ${driver.name} crashed ${where} in ${phase}`);
    } else {
      this.stats.driverStalls++;
      driver.stalledUntil = this.world.now + resumeAfterTicks + this.rng.int(resumeAfterTicks * (stall ? 40 : 12));
      this.world.log(`saga ${driver.saga.id}: ${driver.name} stalls ${where} in ${phase} until tick ${driver.stalledUntil}`);
    }
  }

  private carry(driver: Driver, action: Exclude<MoveAction, { kind: "finished" }>, token: number): void {
    const done = (outcome: MoveOutcome | null) => {
      if (driver.token !== token || !this.drivers.includes(driver)) return;
      driver.inFlight = false;
      if (outcome === null) return; // not answered: the next tick tries again
      driver.timeouts = 0;
      const focused = this.staleDrivers && driver.saga.phase === "route";
      if (!this.calm && this.rng.chance(focused ? 0.5 : 0.05)) {
        this.crash(driver, "after its step, before recording it", focused);
        return;
      }
      driver.pending = advance(driver.saga, outcome); // recorded from the next tick on
    };
    switch (action.kind) {
      case "propose":
        this.propose(driver, action.group, action.change, (result) => done(outcomeOf(result)));
        return;
      case "copy":
        this.copy(driver, action, done);
        return;
      case "route": {
        if (isFinished(this.world.sagas.get(driver.saga.id)?.value ?? driver.saga)) {
          this.stats.staleRoutes++;
          this.world.log(`saga ${driver.saga.id}: ${driver.name} routes it again, though it is recorded finished`);
        }
        // As MoveDriver.route (src/multiraft/move-saga.ts on why): read the table, then what the
        // target serves after a ReadIndex round there, then write the table by compare-and-set on
        // the version read, also when unchanged (a conflict: the next tick tries again).
        const table = this.world.table;
        const replica = this.world.target(action.to, driver.guesses.get(action.to) ?? noNode, this.rng);
        if (replica === undefined || !replica.alive) return;
        this.world.readIndex(replica, `${driver.name}:${++driver.seq}`, false, (machine) => {
          const next = routedTable(table.value, action.span, action.to, machine.ownership?.spans ?? []);
          const write = { type: "put" as const, key: tableKey, value: encodeJson(next), condition: { ifVersion: table.version } };
          // The metadata group is another group, so proposing there from inside the target replica's Ready is safe.
          this.proposeOperation(driver, metadataGroup, write, (result) => done(result.ok ? { kind: "routed" } : null));
        });
        return;
      }
    }
  }

  private propose(driver: Driver, group: string, change: RangeChange, done: (result: ApplyResult) => void): void {
    this.proposeOperation(driver, group, { type: "range", change }, done);
  }

  private proposeOperation(driver: Driver, group: string, operation: KvOperation, done: (result: ApplyResult) => void): void {
    const replica = this.world.target(group, driver.guesses.get(group) ?? noNode, this.rng);
    if (replica === undefined || !replica.alive) return;
    const seq = ++driver.seq;
    const command = encodeCommand({ clientId: driver.name, seq, timeMs: this.world.now * tickMs, operation });
    if (this.world.propose(replica, driver.name, seq, command, done)) driver.guesses.set(group, replica.id);
    else driver.guesses.set(group, replica.status().leader);
  }

  /** Exports a page from the source after a ReadIndex round at its leader, then installs it in the target. */
  private copy(driver: Driver, action: Extract<MoveAction, { kind: "copy" }>, done: (outcome: MoveOutcome | null) => void): void {
    const replica = this.world.target(action.from, driver.guesses.get(action.from) ?? noNode, this.rng);
    if (replica === undefined || !replica.alive) return;
    const context = `${driver.name}:${++driver.seq}`;
    this.world.readIndex(replica, context, false, (machine) => {
      const page = machine.exportRange(action.saga, action.span, action.cursor);
      if (page === undefined) {
        done({ kind: "refused", reason: `the span is not frozen in ${action.from}` });
        return;
      }
      const change: RangeChange = { action: "install", saga: action.saga, span: action.span, records: page.records, sessions: page.sessions, versionFloor: page.versionFloor, ...(page.txn === undefined ? {} : { txn: page.txn }) };
      // The target is another group, so proposing there from inside the source replica's Ready is safe.
      this.propose(driver, action.to, change, (result) => {
        const outcome = outcomeOf(result);
        if (outcome === null || outcome.kind === "refused") return done(outcome);
        this.stats.carriedIntents += page.txn?.intents.length ?? 0;
        this.stats.carriedTxnRecords += page.txn?.records.length ?? 0;
        if ((page.txn?.intents.length ?? 0) + (page.txn?.records.length ?? 0) > 0) this.carryingTxns.add(action.saga);
        done(page.cursor === undefined ? { kind: "copied", records: page.records.length } : { kind: "copied", records: page.records.length, cursor: page.cursor });
      });
    });
  }

  /**
   * Records `next` in the saga's metadata record by compare-and-set (a put conditioned on the
   * version this driver read; version 0 creates it). On a conflict the driver adopts what another
   * driver recorded, read from the metadata group after its answer.
   */
  private record(driver: Driver, next: MoveSaga, token: number): void {
    const write = { type: "put" as const, key: `${sagaKeyPrefix}${next.id}`, value: encodeJson(next), condition: { ifVersion: driver.version } };
    this.proposeOperation(driver, metadataGroup, write, (result) => {
      if (driver.token !== token || !this.drivers.includes(driver)) return;
      driver.inFlight = false;
      driver.pending = null;
      driver.timeouts = 0;
      this.touchedAt.set(next.id, this.world.now);
      this.world.refreshMetadata();
      if (!result.ok || result.type !== "put") {
        const recorded = this.world.sagas.get(next.id);
        this.stats.racingRecords++;
        if (recorded === undefined) return; // not created yet: the driver's saga starts over from its own copy
        driver.saga = recorded.value;
        driver.version = recorded.version;
        this.world.log(`saga ${next.id}: ${driver.name} lost a race, continues from the record (${recorded.value.phase})`);
        return;
      }
      driver.saga = next;
      driver.version = result.version;
      if (!isFinished(next)) {
        this.world.log(`saga ${next.id}: ${driver.name} recorded ${next.phase}`);
        return;
      }
      if (next.phase === "done") {
        this.stats.sagasDone++;
        if (this.carryingTxns.has(next.id)) this.stats.sagasDoneCarryingTxns++;
      } else {
        this.stats.sagasRolledBack++;
        const reason = next.reason ?? "unknown";
        this.stats.rolledBackReasons[reason] = (this.stats.rolledBackReasons[reason] ?? 0) + 1;
      }
      this.world.log(`saga ${next.id}: ${next.phase}${next.reason === undefined ? "" : ` (${next.reason})`}`);
    });
  }
}

/** A range command's result as a saga outcome; null when it was not decided (ask again). */
function outcomeOf(result: ApplyResult): MoveOutcome | null {
  if (result.ok) return { kind: "applied" };
  if (result.code === "rangeRefused") return { kind: "refused", reason: result.reason };
  return null;
}

function describeSpan(span: Span): string {
  return `[${JSON.stringify(span.start)}, ${span.end === undefined ? "end" : JSON.stringify(span.end)})`;
}
