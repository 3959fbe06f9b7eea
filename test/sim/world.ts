/**
 * The simulated world: replicas, the network between them and virtual time. Each step either
 * delivers one due message or advances time by one tick (every live replica ticks, then clients
 * and the nemesis act); after every step the safety invariants are checked on every replica the
 * step touched.
 */
import { createRng, type Rng } from "../../src/shared/rng.ts";
import { snapshotChunkBytesMax } from "../../src/shared/limits.ts";
import { emptyConfState, MemoryStorage } from "../../src/raft/storage.ts";
import { noNode, type ConfState, type Entry, type Message, type NodeId } from "../../src/raft/types.ts";
import { members } from "../../src/raft/confchange.ts";
import { Network } from "./network.ts";
import type { SimulationOptions } from "./options.ts";
import { Replica, type ReplicaObserver } from "./replica.ts";
import { SafetyChecker } from "./invariants.ts";
import { emptyStats, type SimulationStats } from "./stats.ts";
import { describeConf, describeMessage } from "./trace.ts";

/** Receives trace lines (verbose mode). */
export type TraceSink = (line: string) => void;

/** Replicas, network, clock and invariant checker of one run. */
export class World {
  readonly options: SimulationOptions;
  readonly replicas = new Map<NodeId, Replica>();
  readonly network: Network;
  readonly checker = new SafetyChecker();
  readonly stats: SimulationStats = emptyStats();
  /** Randomness of the clients and of the nemesis: separate streams, so neither shifts the other. */
  readonly clientRng: Rng;
  readonly nemesisRng: Rng;
  /** Called on every tick after the replicas ticked (clients, then nemesis). */
  onTick: (() => void) | null = null;
  /** Every replica that was a member of a configuration some replica applied. */
  readonly everMembers = new Set<NodeId>();
  /** Tick at which each replica last became leader. */
  readonly electedAt = new Map<NodeId, number>();
  /** Replicas stopped for good (removed from the group and garbage-collected by their host). */
  readonly retired = new Set<NodeId>();
  /** Whether replicas may crash in the middle of a Ready (the safety phase only). */
  midReadyCrashes = true;
  /** Virtual time in ticks. */
  now = 0;
  /** Steps taken so far. */
  steps = 0;
  private readonly rng: Rng;
  private readonly replicaRng: Rng;
  private readonly trace: TraceSink | null;
  private readonly touched = new Set<Replica>();
  private readonly lastSkippedTick = new Map<NodeId, number>();
  private readonly leaderTerms = new Map<NodeId, number>();
  private readonly observer: ReplicaObserver;

  constructor(options: SimulationOptions, trace: TraceSink | null = null) {
    this.options = options;
    this.trace = trace;
    const root = createRng(options.seed ^ 0x5eed);
    this.rng = root.fork();
    this.network = new Network(root.fork(), options.network);
    this.clientRng = root.fork();
    this.nemesisRng = root.fork();
    this.replicaRng = root.fork();
    this.observer = this.makeObserver();
    const voters = Array.from({ length: options.replicaCount }, (_, index) => index + 1);
    for (const id of voters) this.addReplica(id, MemoryStorage.bootstrap({ ...emptyConfState(), voters }));
  }

  /** Takes one step: delivers a due message, or advances time by a tick. */
  step(): void {
    this.steps++;
    // Time may run ahead of due messages (slow processing), but by at most a tick: otherwise a busy
    // group produces messages faster than steps deliver them and every delay grows without bound.
    const late = this.network.hasDue(this.now - 1);
    const tickAnyway = !late && this.rng.chance(this.options.network.tickProbability);
    const packet = tickAnyway ? undefined : this.network.takeDue(this.now);
    if (packet !== undefined) this.deliver(packet.message);
    else this.tick();
    this.checkTouched();
  }

  /** Ids of every replica ever created, ascending. */
  ids(): NodeId[] {
    return [...this.replicas.keys()].sort((a, b) => a - b);
  }

  /** The replica `id`, which must exist. */
  replica(id: NodeId): Replica {
    const replica = this.replicas.get(id);
    if (replica === undefined) throw new Error(`no replica ${id}`);
    return replica;
  }

  /** Live replicas, by id. */
  alive(): Replica[] {
    return this.ids().map((id) => this.replica(id)).filter((replica) => replica.alive);
  }

  /** Creates and starts replica `id` on `storage` (a new member gets an empty one). */
  addReplica(id: NodeId, storage: MemoryStorage = MemoryStorage.bootstrap(emptyConfState())): Replica {
    const replica = new Replica(id, storage, {
      send: (messages) => this.send(messages),
      observer: this.observer,
      newRng: () => this.replicaRng.fork(),
      engine: this.options.engine,
      snapshotEntries: this.options.snapshotEntries,
      crashesMidReady: () => this.crashesMidReady(),
      crashed: (crashed) => {
        this.checker.observeDown(crashed.id);
        this.stats.crashes++;
        this.log(`crash ${crashed.id} in the middle of a Ready`);
      },
    });
    this.replicas.set(id, replica);
    replica.start();
    this.touch(replica);
    return replica;
  }

  /** Crashes replica `id`: it loses everything but its disk. */
  crash(id: NodeId): void {
    const replica = this.replica(id);
    replica.crash();
    this.checker.observeDown(id);
    this.stats.crashes++;
    this.log(`crash ${id}`);
  }

  /** Stops replica `id` for good, as a host garbage-collects a replica removed from the group. */
  retire(id: NodeId): void {
    const replica = this.replica(id);
    if (replica.alive) replica.crash();
    this.checker.observeDown(id);
    this.retired.add(id);
    this.log(`retire replica ${id}: not a member`);
  }

  /** Restarts crashed replica `id` from its disk. */
  restart(id: NodeId): void {
    const replica = this.replica(id);
    replica.start();
    this.stats.restarts++;
    this.touch(replica);
    this.log(`restart ${id} (snapshot ${replica.storage.snapshot().meta.index}, last ${replica.storage.lastIndex()})`);
  }

  /**
   * Wipes the disk of replica `id` (crashing it first if it runs) and restarts it empty, as a host
   * restarts a replica whose disk was lost: fenced at the highest term of every other replica (a
   * down one's durable term, what it would report once up, as a host waits for its answer) and
   * recovering. What it sent, and what was sent to it, is lost with its host's connections.
   */
  wipe(id: NodeId): void {
    const replica = this.replica(id);
    if (replica.alive) this.crash(id);
    let fence = 0;
    for (const other of this.replicas.values()) {
      if (other.id === id) continue;
      fence = Math.max(fence, other.alive ? other.status().term : other.storage.initialState().hardState.term);
    }
    const dropped = this.network.dropInvolving(id);
    this.checker.observeWiped(id);
    replica.wipe(fence);
    this.stats.wipes++;
    this.log(`wipe the disk of ${id}: fenced at term ${fence}, ${dropped} messages from or to it in flight lost`);
    this.restart(id);
  }

  /**
   * Whether every configuration the live replicas run keeps a quorum of voters other than
   * `victim`: a replica that lost its disk votes for nobody until a leader caught it up, so a
   * group left without a quorum of intact voters waits for good (safely), as etcd does.
   */
  quorumWithout(victim: NodeId): boolean {
    for (const replica of this.alive()) {
      const conf = replica.status().conf;
      for (const voters of [conf.voters, conf.votersOutgoing]) {
        if (voters.includes(victim) && voters.length - 1 < Math.floor(voters.length / 2) + 1) return false;
      }
    }
    return true;
  }

  /** Replicas that lost their disk and have not caught up yet. */
  recoveringCount(): number {
    let count = 0;
    for (const replica of this.replicas.values()) if (replica.recovering) count++;
    return count;
  }

  /** The live replica that leads the highest term, if any. */
  leader(): Replica | undefined {
    let best: { replica: Replica; term: number } | undefined;
    for (const replica of this.alive()) {
      const status = replica.status();
      if (status.role === "leader" && (best === undefined || status.term > best.term)) best = { replica, term: status.term };
    }
    return best?.replica;
  }

  /** Marks a replica for the invariant checks at the end of this step. */
  touch(replica: Replica): void {
    this.touched.add(replica);
  }

  /** Writes a trace line (verbose mode only). */
  log(text: string): void {
    if (this.trace !== null) this.trace(`[step ${this.steps} tick ${this.now}] ${text}`);
  }

  /** Copies the network's counters into the statistics and returns them. */
  finishStats(): SimulationStats {
    const counters = this.network.counters;
    this.stats.steps = this.steps;
    this.stats.ticks = this.now;
    this.stats.leadersElected = this.checker.leadersCount;
    this.stats.messagesSent = counters.sent;
    this.stats.messagesDropped = counters.dropped;
    this.stats.messagesDuplicated = counters.duplicated;
    this.stats.messagesPartitioned = counters.partitioned;
    return this.stats;
  }

  private tick(): void {
    this.now++;
    for (const replica of this.alive()) {
      if (this.skipsTick(replica.id)) continue;
      replica.tick();
      this.touch(replica);
    }
    this.onTick?.();
  }

  private crashesMidReady(): boolean {
    if (!this.midReadyCrashes || !this.rng.chance(this.options.nemesis.midReadyCrashProbability)) return false;
    return this.replicas.size - this.alive().length < this.options.nemesis.crashedMax;
  }

  /**
   * Clock drift: a replica sometimes misses a tick, at most once per election timeout, which keeps
   * every clock within the engine's stated margin (leaseSafetyTicks, 2, per election timeout).
   */
  private skipsTick(id: NodeId): boolean {
    const last = this.lastSkippedTick.get(id) ?? -Infinity;
    if (this.now - last <= this.options.electionTicks) return false;
    if (!this.rng.chance(this.options.network.tickSkipProbability)) return false;
    this.lastSkippedTick.set(id, this.now);
    return true;
  }

  private send(messages: Message[]): void {
    for (const message of messages) this.network.send(message, this.now);
  }

  private deliver(message: Message): void {
    const target = this.replicas.get(message.to);
    const blocked = this.network.isBlocked(message.from, message.to);
    if (target === undefined || !target.alive || blocked) {
      this.network.counters.partitioned += blocked ? 1 : 0;
      this.reportLoss(message);
      return;
    }
    this.network.counters.delivered++;
    if (message.snapshot !== null && message.snapshot.totalBytes > snapshotChunkBytesMax) this.stats.snapshotChunks++;
    if (this.trace !== null) this.log(`deliver ${describeMessage(message)}`);
    target.step(message);
    this.touch(target);
  }

  /** A transport that failed to send tells the sender (sometimes), as a real host's would. */
  private reportLoss(message: Message): void {
    const sender = this.replicas.get(message.from);
    if (sender === undefined || !sender.alive) return;
    if (!this.rng.chance(this.options.network.unreachableReportProbability)) return;
    sender.reportUnreachable(message.to);
    this.touch(sender);
  }

  private checkTouched(): void {
    for (const replica of this.touched) {
      if (!replica.alive) continue;
      const status = replica.status();
      this.checker.checkReplica({
        id: replica.id,
        role: status.role,
        term: status.term,
        vote: status.vote,
        commit: status.commit,
        applied: status.applied,
        hostApplied: replica.appliedIndex,
        log: replica.storage,
      });
    }
    this.touched.clear();
  }

  private makeObserver(): ReplicaObserver {
    return {
      persisted: (replica, write) => this.checker.observeEntries(replica.id, write.entries, replica.storage),
      applied: (replica, entry) => this.checker.observeApplied(replica.id, entry),
      confApplied: (replica, entry, conf) => {
        this.checker.observeApplied(replica.id, entry, conf);
        this.confApplied(replica, entry, conf);
      },
      restored: (replica, snapshot) => {
        this.checker.observeRestored(replica.id, snapshot.meta.index);
        this.stats.snapshotsInstalled++;
        this.log(`replica ${replica.id} installed snapshot ${snapshot.meta.index} (${snapshot.data.byteLength} bytes, ${describeConf(snapshot.meta.conf)})`);
      },
      snapshotTaken: (replica, index, data) => {
        this.checker.observeSnapshot(replica.id, index, data);
        this.stats.snapshotsTaken++;
      },
      softState: (replica, state) => {
        if (state.role === "leader" && !state.quiesced && this.electedAt.get(replica.id) !== this.now) this.noteLeader(replica);
        if (state.role === "leader" && state.quiesced) this.stats.quiescedLeaders++;
        this.log(`replica ${replica.id}: ${state.role}${state.quiesced ? " (quiesced)" : ""}, leader ${state.leader === noNode ? "none" : state.leader}`);
      },
      started: (replica) => this.checker.observeStarted(replica.id, replica.appliedIndex),
    };
  }

  private noteLeader(replica: Replica): void {
    if (this.leaderTerms.get(replica.id) === replica.status().term) return; // woke up, not newly elected
    this.leaderTerms.set(replica.id, replica.status().term);
    this.electedAt.set(replica.id, this.now);
  }

  /** Statistics count a membership change once: when the leader applies the entry that completes it. */
  private confApplied(replica: Replica, entry: Entry, conf: ConfState): void {
    for (const id of members(conf)) this.everMembers.add(id);
    const completed = entry.index > 1 && conf.votersOutgoing.length === 0;
    if (completed && replica.status().role === "leader") this.stats.confChangesApplied++;
    this.log(`replica ${replica.id} applied configuration ${describeConf(conf)} at ${entry.index}`);
  }
}
