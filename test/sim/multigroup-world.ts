/**
 * The simulator's multi-group world: several data groups and the metadata group, each a
 * single-group World of 3 replicas running real RawNodes and KV state machines with its own network
 * and nemesis; the metadata group's records are the range table (`keyspace`) and one record per
 * saga (`sagas/<id>`), JSON values changed by compare-and-set like the router's. One global clock,
 * and the "no key served by two groups" invariant checked after every step on each data group's
 * latest applied ownership.
 */
import { assert } from "../../src/shared/assert.ts";
import { createRng, type Rng } from "../../src/shared/rng.ts";
import { encodeCommand, type ApplyResult, type KvStateMachine, type Operation as KvOperation } from "../../src/kv/index.ts";
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
  /** The metadata group (not one of `groups`: it owns no range of the keyspace). */
  readonly metadata: Group;
  /** The metadata records at the highest index any metadata replica applied. */
  private metadataView: { index: number; table: Versioned<RangeTable>; sagas: Map<string, Versioned<MoveSaga>> };
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
    this.metadataView = { index: 0, table: { value: table, version: 0 }, sagas: new Map() };
    this.metadata = this.startGroup(metadataGroup, { type: "put", key: tableKey, value: encodeJson(table) }, (machine) => machine.get(tableKey) !== undefined);
    this.refreshMetadata();
  }

  /** The range table as the metadata group holds it (latest applied state: what a fresh read returns). */
  get table(): Versioned<RangeTable> {
    return this.metadataView.table;
  }

  /** Every saga record, as the metadata group holds it. */
  get sagas(): ReadonlyMap<string, Versioned<MoveSaga>> {
    return this.metadataView.sagas;
  }

  /** Re-reads the metadata records when a metadata replica applied further (cheap when nothing changed). */
  refreshMetadata(): void {
    for (const replica of this.metadata.world.alive()) {
      const machine = replica.stateMachine;
      if (machine === null || replica.appliedIndex <= this.metadataView.index) continue;
      const table = machine.get(tableKey);
      assert(table !== undefined, "the metadata group holds the range table");
      const sagas = new Map<string, Versioned<MoveSaga>>();
      for (const record of machine.scan({ prefix: sagaKeyPrefix, limit: 1000 }).entries) {
        sagas.set(record.key.slice(sagaKeyPrefix.length), { value: decodeJson(record.value) as MoveSaga, version: record.version });
      }
      this.metadataView = { index: replica.appliedIndex, table: { value: decodeJson(table.value) as RangeTable, version: table.version }, sagas };
    }
  }

  /**
   * Creates a group of 3 fresh replicas and initializes its ownership to `spans` before it joins
   * the world (a host creates and initializes a group before registering it): a calm run of that
   * group alone until every replica applied the init command.
   */
  createGroup(name: string, spans: Span[]): Group {
    assert(!this.groups.has(name) && name !== metadataGroup, `group ${name} is new`);
    const group = this.startGroup(name, { type: "range", change: { action: "init", mode: "range", spans } }, (machine) => machine.ownership !== undefined);
    this.groups.set(name, group);
    this.observe(group);
    this.log(`group ${name} created, owning ${JSON.stringify(spans)}`);
    return group;
  }

  /** Starts a group's replicas and runs it alone, calmly, until every replica applied `first` (`ready`). */
  private startGroup(name: string, first: KvOperation, ready: (machine: KvStateMachine) => boolean): Group {
    const seed = (this.options.seed * 31 + ++this.groupSeed) >>> 0;
    const options: SimulationOptions = { ...this.options, seed, replicaCount: 3 };
    const world = new World(options, this.trace === null ? null : (line) => this.trace!(`${name} ${line}`));
    world.now = this.now;
    const nemesis = new Nemesis(world, { paused: false }, world.nemesisRng, options.nemesis);
    const group: Group = { name, world, nemesis, latest: { index: 0, ownership: undefined } };
    const faults = world.network.faults;
    world.network.faults = { ...faults, dropProbability: 0, duplicateProbability: 0, stragglerProbability: 0 };
    world.midReadyCrashes = false;
    const command = encodeCommand({ clientId: "host", seq: 1, timeMs: 0, operation: first });
    const done = () => world.alive().length === 3 && world.alive().every((replica) => replica.stateMachine !== null && ready(replica.stateMachine));
    let proposed = false;
    for (let step = 0; step < 100_000 && !done(); step++) {
      const leader = world.leader();
      if (!proposed && leader !== undefined) proposed = leader.propose(command).ok;
      world.step();
    }
    assert(done(), `group ${name} applied its first command`);
    world.network.faults = faults;
    world.midReadyCrashes = true;
    world.onTick = () => {
      if (this.faults) nemesis.onTick();
    };
    this.now = Math.max(this.now, world.now);
    return group;
  }

  /** The group `name`, which must exist. */
  group(name: string): Group {
    const group = name === metadataGroup ? this.metadata : this.groups.get(name);
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
    this.metadata.world.step();
    this.refreshMetadata();
    this.checkServing();
    const now = Math.min(this.metadata.world.now, ...[...this.groups.values()].map((group) => group.world.now));
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
    for (const group of [...this.groups.values(), this.metadata]) {
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

/** The metadata group's name. */
export const metadataGroup = "meta";
/** The metadata record holding the range table. */
export const tableKey = "keyspace";
/** The prefix of the metadata records holding the sagas. */
export const sagaKeyPrefix = "sagas/";

/** A metadata record's bytes. */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** A metadata record's value. */
export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
}

/** An ownership that serves nothing (a group whose latest state has no ranges yet). */
const noRanges: RangeOwnership = { mode: "range", epoch: 1, spans: [], frozen: [], incoming: [], departed: [], ended: [] };
