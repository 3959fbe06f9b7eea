/**
 * One simulated replica: a RawNode and a KV state machine in memory, a MemoryStorage as its disk,
 * and the shared driver loop between them. A crash throws away everything but the storage; a
 * restart rebuilds the node and the state machine from the storage, as a real host would. A wipe
 * throws the storage away too: the replica starts again empty, fenced and recovering
 * (RaftConfig.recovering), as a host does for a replica whose disk was lost.
 */
import { assert } from "../../src/shared/assert.ts";
import type { Rng } from "../../src/shared/rng.ts";
import { drive, type DriverPorts } from "../../src/raft/driver.ts";
import { RawNode, type RaftConfig } from "../../src/raft/raw-node.ts";
import { MemoryStorage, type LogStore, type LogWrite } from "../../src/raft/storage.ts";
import type { ConfChange, ConfState, Entry, Index, Message, NodeId, ProposalResult, ReadState, Snapshot, SoftState, Status, Term } from "../../src/raft/types.ts";
import { decodeCommand, KvStateMachine, MemoryKvStore, type ApplyResult, type KvRecord } from "../../src/kv/index.ts";

/** What the rest of the simulation learns from a replica as it runs (invariant checks, statistics, traces). */
export interface ReplicaObserver {
  persisted(replica: Replica, write: LogWrite): void;
  applied(replica: Replica, entry: Entry): void;
  confApplied(replica: Replica, entry: Entry, conf: ConfState): void;
  restored(replica: Replica, snapshot: Snapshot): void;
  snapshotTaken(replica: Replica, index: Index, data: Uint8Array): void;
  softState(replica: Replica, state: SoftState): void;
  started(replica: Replica): void;
}

/** The world around a replica. */
export interface ReplicaHost {
  send(messages: Message[]): void;
  observer: ReplicaObserver;
  /** A fresh generator for a new life's election timeouts. */
  newRng(): Rng;
  /** The engine settings every replica of the group shares. */
  engine: EngineSettings;
  /** Whether the host crashes right now, in the middle of handling a Ready (after a send or an apply). */
  crashesMidReady(): boolean;
  /** The replica crashed by itself (in the middle of a Ready). */
  crashed(replica: Replica): void;
  snapshotEntries: number;
}

/** The RaftConfig fields a simulation run chooses. */
export type EngineSettings = Required<
  Pick<
    RaftConfig,
    "electionTicks" | "heartbeatTicks" | "preVote" | "checkQuorum" | "leaseReads" | "appendBytesMax" | "inflightMessagesMax" | "uncommittedBytesMax"
  >
>;

/** A client write waiting for its entry to be applied here. */
interface WriteWaiter {
  seq: number;
  done: (result: ApplyResult, index: Index) => void;
}

/** A client read waiting for its ReadState, then for the state machine to catch up with it. */
interface ReadWaiter {
  /** The ReadState's index once it arrived. */
  index: Index | null;
  /** Reads what it needs from the state machine once it applied the read index. */
  done: (machine: KvStateMachine) => void;
}

/** A replica of the simulated group. */
export class Replica {
  readonly id: NodeId;
  /** The durable disk: survives crashes, not wipes. */
  storage: MemoryStorage;
  /** The durable note that this replica lost its disk and has not caught up since (RaftConfig.recovering). */
  recovering = false;
  /** Index of the last entry applied in this life (or of the snapshot the state machine holds). */
  appliedIndex: Index = 0;
  /** How many times this replica was started. */
  lives = 0;
  /** The durable note of the last quiet state (survives crashes, like the disk); a restart resumes from it. */
  quietNote: { term: number; leader: NodeId } | undefined;
  private node: RawNode | null = null;
  private machine: KvStateMachine | null = null;
  private ports: DriverPorts | null = null;
  private readonly host: ReplicaHost;
  private readonly writeWaiters = new Map<string, WriteWaiter>();
  private readonly readWaiters = new Map<string, ReadWaiter>();

  constructor(id: NodeId, storage: MemoryStorage, host: ReplicaHost) {
    this.id = id;
    this.storage = storage;
    this.host = host;
  }

  /** Whether the replica is running. */
  get alive(): boolean {
    return this.node !== null;
  }

  /** Boots from the disk: applied = the snapshot's index, the state machine restored from it, then the log re-applied. */
  start(): void {
    assert(this.node === null, `replica ${this.id} started twice`);
    const snapshot = this.storage.snapshot();
    const host = this.host;
    const node = new RawNode(
      {
        ...host.engine,
        id: this.id,
        rng: host.newRng(),
        applied: snapshot.meta.index,
        recovering: this.recovering,
        ...(this.quietNote === undefined ? {} : { resumeQuiet: this.quietNote }),
      },
      this.storage,
    );
    this.machine = machineFrom(snapshot);
    this.appliedIndex = snapshot.meta.index;
    this.node = node;
    this.ports = this.makePorts();
    this.lives++;
    host.observer.started(this);
    this.drive();
  }

  /** Loses everything in memory: the node, the state machine and the requests waiting here. */
  crash(): void {
    assert(this.node !== null, `replica ${this.id} crashed while down`);
    this.node = null;
    this.machine = null;
    this.ports = null;
    this.writeWaiters.clear();
    this.readWaiters.clear();
  }

  /**
   * Loses the disk of this crashed replica: it gets an empty one whose hard state is fenced at
   * `fenceTerm` (the highest term of every other replica) and is recovering until it caught up.
   */
  wipe(fenceTerm: Term): void {
    assert(this.node === null, `replica ${this.id} is wiped while down`);
    this.storage = new MemoryStorage();
    this.storage.save({ hardState: { term: fenceTerm, vote: 0, commit: 0 }, entries: [], snapshot: null });
    this.recovering = true;
    this.quietNote = undefined;
    this.appliedIndex = 0;
  }

  /** Delivers a message. */
  step(message: Message): void {
    this.running().step(message);
    this.drive();
  }

  /** Advances this replica's clock by one tick. */
  tick(): void {
    this.running().tick();
    this.drive();
  }

  /** Proposes a command; the bytes are copied so that no two replicas share them. */
  propose(data: Uint8Array): ProposalResult {
    const result = this.running().propose(data.slice());
    this.drive();
    return result;
  }

  /** Proposes a membership change. */
  proposeConfChange(change: ConfChange): ProposalResult {
    const result = this.running().proposeConfChange(change);
    this.drive();
    return result;
  }

  /** Starts a linearizable read (ReadIndex, or a lease read when `lease`). */
  readIndex(context: string, lease: boolean): void {
    this.running().readIndex(context, { lease });
    this.drive();
  }

  /** Asks this replica (a leader) to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    this.running().transferLeader(to);
    this.drive();
  }

  /** Tells the node that `to` could not be reached, as a transport whose send failed would. */
  reportUnreachable(to: NodeId): void {
    this.running().reportUnreachable(to);
    this.drive();
  }

  /** The node's status. */
  status(): Status {
    return this.running().status();
  }

  /** Term of the entry at `index` on disk (null when compacted or absent). */
  termAt(index: Index): Term | null {
    return this.storage.term(index);
  }

  /** Calls `done` with the apply result when this replica applies `clientId`'s command `seq`. */
  awaitWrite(clientId: string, seq: number, done: (result: ApplyResult, index: Index) => void): void {
    this.writeWaiters.set(clientId, { seq, done });
  }

  /** Calls `done` with the record read once the ReadState for `context` arrived and was applied. */
  awaitRead(context: string, key: string, done: (record: KvRecord | undefined) => void): void {
    this.awaitMachine(context, (machine) => done(machine.get(key)));
  }

  /** Calls `done` with the state machine once the ReadState for `context` arrived and was applied (fenced reads, exports). */
  awaitMachine(context: string, done: (machine: KvStateMachine) => void): void {
    this.readWaiters.set(context, { index: null, done });
  }

  /** The state machine of this life (null while down), for invariant checks that look at applied state. */
  get stateMachine(): KvStateMachine | null {
    return this.machine;
  }

  /** Forgets a client's waiting request (the client gave up or retries elsewhere). */
  forget(clientId: string, context: string): void {
    if (this.writeWaiters.get(clientId) !== undefined) this.writeWaiters.delete(clientId);
    this.readWaiters.delete(context);
  }

  /** The encoded state machine, to compare replicas at the end of a run. */
  machineSnapshot(): Uint8Array {
    assert(this.machine !== null, `replica ${this.id} is down`);
    return this.machine.snapshot();
  }

  private running(): RawNode {
    assert(this.node !== null, `replica ${this.id} is down`);
    return this.node;
  }

  private drive(): void {
    const node = this.running();
    try {
      drive(node, this.ports!, { snapshotEntries: this.host.snapshotEntries });
    } catch (error) {
      if (!(error instanceof HostCrash)) throw error;
      this.crash(); // the Ready was half done: what was saved is on disk, what was sent is on the wire
      this.host.crashed(this);
      return;
    }
    // Caught up, and what it caught up with is on disk now: the host forgets the loss.
    if (this.recovering && !node.recovering()) this.recovering = false;
    this.settleReads();
  }

  private makePorts(): DriverPorts {
    const observer = this.host.observer;
    return {
      store: new ObservedStore(this.storage, (write) => observer.persisted(this, write)),
      send: (messages) => {
        this.host.send(messages);
        if (this.host.crashesMidReady()) throw new HostCrash();
      },
      apply: (entry) => {
        this.apply(entry);
        if (this.host.crashesMidReady()) throw new HostCrash();
      },
      restore: (snapshot) => {
        this.machine = machineFrom(snapshot);
        this.appliedIndex = snapshot.meta.index;
        observer.restored(this, snapshot);
      },
      takeSnapshot: () => {
        const data = this.machine!.snapshot();
        observer.snapshotTaken(this, this.appliedIndex, data);
        return data;
      },
      readStates: (states) => this.readStatesArrived(states),
      softState: (state) => {
        // As the hosts do (replica-runtime.ts): noted when it goes quiet, forgotten when it wakes.
        this.quietNote = state.quiesced ? { term: this.running().brief().term, leader: state.leader } : undefined;
        observer.softState(this, state);
      },
      confChanged: (conf, entry) => {
        this.appliedIndex = entry.index;
        observer.confApplied(this, entry, conf);
      },
    };
  }

  private apply(entry: Entry): void {
    this.appliedIndex = entry.index;
    this.host.observer.applied(this, entry);
    if (entry.data.byteLength === 0) return; // a new leader's no-op
    const result = this.machine!.apply(entry.index, entry.data);
    if (this.writeWaiters.size === 0) return;
    const decoded = decodeCommand(entry.data);
    assert(decoded.ok, `entry ${entry.index} holds a valid command`);
    const waiter = this.writeWaiters.get(decoded.command.clientId);
    if (waiter === undefined || waiter.seq !== decoded.command.seq) return;
    this.writeWaiters.delete(decoded.command.clientId);
    waiter.done(result, entry.index);
  }

  private readStatesArrived(states: ReadState[]): void {
    for (const state of states) {
      const waiter = this.readWaiters.get(state.context);
      if (waiter !== undefined && waiter.index === null) waiter.index = state.index;
    }
  }

  private settleReads(): void {
    if (this.readWaiters.size === 0 || this.machine === null) return;
    for (const [context, waiter] of this.readWaiters) {
      if (waiter.index === null || waiter.index > this.appliedIndex) continue;
      this.readWaiters.delete(context);
      waiter.done(this.machine);
    }
  }
}

/** Thrown from a driver port to model the host dying in the middle of a Ready. */
class HostCrash extends Error {
  override name = "HostCrash";
}

/** A state machine holding `snapshot`'s contents (empty for the bootstrap snapshot). */
function machineFrom(snapshot: Snapshot): KvStateMachine {
  const machine = new KvStateMachine(new MemoryKvStore());
  if (snapshot.data.byteLength > 0) {
    const restored = machine.restore(snapshot.data);
    assert(restored.ok, `snapshot ${snapshot.meta.index} restores`);
  }
  return machine;
}

/** The disk as the driver sees it: the replica's MemoryStorage, reporting every write after it is made. */
class ObservedStore implements LogStore {
  private readonly storage: MemoryStorage;
  private readonly onSave: (write: LogWrite) => void;

  constructor(storage: MemoryStorage, onSave: (write: LogWrite) => void) {
    this.storage = storage;
    this.onSave = onSave;
  }

  initialState(): ReturnType<LogStore["initialState"]> {
    return this.storage.initialState();
  }
  firstIndex(): Index {
    return this.storage.firstIndex();
  }
  lastIndex(): Index {
    return this.storage.lastIndex();
  }
  term(index: Index): Term | null {
    return this.storage.term(index);
  }
  entries(low: Index, high: Index, bytesMax: number): Entry[] {
    return this.storage.entries(low, high, bytesMax);
  }
  snapshot(): Snapshot {
    return this.storage.snapshot();
  }
  save(write: LogWrite): void {
    this.storage.save(write);
    this.onSave(write);
  }
  compact(snapshot: Snapshot): void {
    this.storage.compact(snapshot);
  }
}
