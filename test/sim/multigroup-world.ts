/**
 * The simulator's multi-group world: several Raft groups (each a single-group World of 3 replicas
 * running real RawNodes and KV state machines, with its own network and nemesis), the metadata
 * (the range table and the saga records, changed by compare-and-set like the metadata group's
 * records), one global clock and the "no key served by two groups" invariant, checked after every
 * step on each group's latest applied ownership.
 */
import { assert } from "../../src/shared/assert.ts";
import { createRng, type Rng } from "../../src/shared/rng.ts";
import { encodeCommand, type ApplyResult, type KvStateMachine } from "../../src/kv/index.ts";
import { servesKey, type RangeOwnership } from "../../src/kv/ownership.ts";
import { spanContains, type Span } from "../../src/kv/span.ts";
import { singleGroupTable, assignSpan, type RangeTable } from "../../src/multiraft/keyspace.ts";
import { isFinished, type MoveSaga } from "../../src/multiraft/move-saga.ts";
import { noNode, type NodeId } from "../../src/raft/types.ts";
import { Nemesis } from "./nemesis.ts";
import type { SimulationOptions } from "./options.ts";
import type { Replica } from "./replica.ts";
import { World, type TraceSink } from "./world.ts";

/** A key served by two groups at once, or another broken invariant of the multi-group world. */
export class MultiGroupInvariantError extends Error {
  override name = "MultiGroupInvariantError";
}

/** One data group: its replicas (a World), its nemesis, and the latest ownership any replica applied. */
export interface Group {
  readonly name: string;
  readonly world: World;
  readonly nemesis: Nemesis;
  /** The ownership at the highest index any replica of the group applied (applied state is a function of the index). */
  latest: { index: number; ownership: RangeOwnership | undefined };
}

/** A value of the metadata group with its version, changed only by compare-and-set. */
export interface Versioned<T> {
  value: T;
  version: number;
}

/** The multi-group world of one seed. */
export class MultiGroupWorld {
  readonly options: SimulationOptions;
  readonly groups = new Map<string, Group>();
  /** The metadata group's records: the range table and one record per saga. */
  table: Versioned<RangeTable>;
  readonly sagas = new Map<string, Versioned<MoveSaga>>();
  /** Keys the clients use: the serving invariant is checked on them. */
  readonly keys: readonly string[];
  readonly rng: Rng;
  /** Called once per global tick (clients, saga drivers). */
  onTick: (() => void) | null = null;
  /** Whether the groups' nemeses run (the safety phase). */
  faults = true;
  steps = 0;
  now = 0;
  private readonly trace: TraceSink | null;
  private groupSeed = 0;

  constructor(options: SimulationOptions, keys: readonly string[], initial: readonly { name: string; spans: Span[] }[], trace: TraceSink | null) {
    this.options = options;
    this.keys = keys;
    this.trace = trace;
    this.rng = createRng(options.seed ^ 0x3a17);
    let table = singleGroupTable("range", initial[0]!.name);
    for (const { name, spans } of initial) {
      this.createGroup(name, spans);
      for (const span of spans) table = assignSpan(table, span, name);
    }
    this.table = { value: { ...table, epoch: 1 }, version: 1 };
  }

  /**
   * Creates a group of 3 fresh replicas and initializes its ownership to `spans` before it joins
   * the world (a host creates and initializes a group before registering it): a calm run of that
   * group alone until every replica applied the init command.
   */
  createGroup(name: string, spans: Span[]): Group {
    assert(!this.groups.has(name), `group ${name} is new`);
    const seed = (this.options.seed * 31 + ++this.groupSeed) >>> 0;
    const options: SimulationOptions = { ...this.options, seed, replicaCount: 3 };
    const world = new World(options, this.trace === null ? null : (line) => this.trace!(`${name} ${line}`));
    world.now = this.now;
    const nemesis = new Nemesis(world, { paused: false }, world.nemesisRng, options.nemesis);
    const group: Group = { name, world, nemesis, latest: { index: 0, ownership: undefined } };
    const faults = world.network.faults;
    world.network.faults = { ...faults, dropProbability: 0, duplicateProbability: 0, stragglerProbability: 0 };
    world.midReadyCrashes = false;
    const init = encodeCommand({ clientId: "host", seq: 1, timeMs: 0, operation: { type: "range", change: { action: "init", mode: "range", spans } } });
    let proposed = false;
    for (let step = 0; step < 100_000; step++) {
      const leader = world.leader();
      if (!proposed && leader !== undefined) proposed = leader.propose(init).ok;
      if (proposed && world.alive().length === 3 && world.alive().every((replica) => replica.stateMachine?.ownership !== undefined)) break;
      world.step();
    }
    assert(world.alive().every((replica) => replica.stateMachine?.ownership !== undefined), `group ${name} initialized its ranges`);
    world.network.faults = faults;
    world.midReadyCrashes = true;
    world.onTick = () => {
      if (this.faults) nemesis.onTick();
    };
    this.groups.set(name, group);
    this.observe(group);
    this.now = Math.max(this.now, world.now);
    this.log(`group ${name} created, owning ${JSON.stringify(spans)}`);
    return group;
  }

  /** The group `name`, which must exist. */
  group(name: string): Group {
    const group = this.groups.get(name);
    assert(group !== undefined, `no group ${name}`);
    return group;
  }

  /** One global step: every group takes one step; a global tick when every group's clock passed it. */
  step(): void {
    this.steps++;
    for (const group of this.groups.values()) {
      group.world.step();
      this.observe(group);
    }
    this.checkServing();
    const now = Math.min(...[...this.groups.values()].map((group) => group.world.now));
    while (this.now < now) {
      this.now++;
      this.onTick?.();
    }
  }

  /** The replica of `group` to send to: the leader when there is one (chance `leaderChance`), else any replica. */
  target(group: string, guess: NodeId, rng: Rng): Replica | undefined {
    const world = this.group(group).world;
    if (guess !== noNode && rng.chance(0.8)) return world.replicas.get(guess);
    const leader = world.leader();
    if (leader !== undefined && rng.chance(0.8)) return leader;
    const ids = world.ids();
    return world.replicas.get(ids[rng.int(ids.length)]!);
  }

  /**
   * Proposes `command` at `replica` and calls `done` when that replica applies it; false when the
   * proposal was refused (not the leader, or busy).
   */
  propose(replica: Replica, clientId: string, seq: number, command: Uint8Array, done: (result: ApplyResult) => void): boolean {
    if (!replica.alive) return false;
    replica.awaitWrite(clientId, seq, (result) => done(result));
    const proposal = replica.propose(command);
    if (!proposal.ok) replica.forget(clientId, "");
    return proposal.ok;
  }

  /** Starts a ReadIndex round at `replica`; `done` gets its state machine once it applied the read index. */
  readIndex(replica: Replica, context: string, lease: boolean, done: (machine: KvStateMachine) => void): boolean {
    if (!replica.alive) return false;
    replica.awaitMachine(context, done);
    replica.readIndex(context, lease);
    return true;
  }

  /** Heals every group: no partitions, no loss, every crashed replica restarted, no more faults. */
  heal(): void {
    this.faults = false;
    for (const group of this.groups.values()) {
      const { world } = group;
      world.midReadyCrashes = false;
      group.nemesis.endQuiet();
      world.network.heal();
      world.network.faults = { ...world.network.faults, dropProbability: 0, duplicateProbability: 0, stragglerProbability: 0 };
      for (const id of world.ids()) if (!world.replica(id).alive) world.restart(id);
    }
    this.log("healed: every group's network calm, every replica running");
  }

  /** Writes a trace line (verbose mode only). */
  log(text: string): void {
    if (this.trace !== null) this.trace(`[global step ${this.steps} tick ${this.now}] ${text}`);
  }

  /** Notes the ownership of the most advanced replica of `group`. */
  private observe(group: Group): void {
    for (const replica of group.world.alive()) {
      const machine = replica.stateMachine;
      if (machine === null || replica.appliedIndex <= group.latest.index) continue;
      group.latest = { index: replica.appliedIndex, ownership: machine.ownership };
    }
  }

  /** At no step do two groups serve one key (each group judged by its latest applied ownership). */
  private checkServing(): void {
    for (const key of this.keys) {
      const serving = [...this.groups.values()].filter((group) => servesKey(group.latest.ownership ?? noRanges, key));
      if (serving.length > 1) {
        throw new MultiGroupInvariantError(`key ${key} is served by ${serving.map((group) => `${group.name} (index ${group.latest.index})`).join(" and ")}`);
      }
      if (serving.length === 0 && !this.anySagaMoving(key)) {
        throw new MultiGroupInvariantError(`key ${key} is served by no group and no unfinished saga moves it`);
      }
    }
  }

  /** Whether `key` may be served by nobody right now: an unfinished saga moves it (released, not yet acquired). */
  private anySagaMoving(key: string): boolean {
    for (const { value: saga } of this.sagas.values()) if (!isFinished(saga) && spanContains(saga.span, key)) return true;
    return false;
  }
}

/** An ownership that serves nothing (a group whose latest state has no ranges yet). */
const noRanges: RangeOwnership = { mode: "range", epoch: 1, spans: [], frozen: [], incoming: [], departed: [], ended: [] };
