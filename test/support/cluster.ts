/**
 * A small deterministic in-memory cluster for engine tests: RawNodes over MemoryStorage, a
 * message queue the test controls, and a recorded state machine (the applied entries).
 */
import { createRng } from "../../src/shared/rng.ts";
import { RawNode, type RaftConfig } from "../../src/raft/raw-node.ts";
import { MemoryStorage, emptyConfState } from "../../src/raft/storage.ts";
import { drive } from "../../src/raft/driver.ts";
import type { Entry, Message, NodeId, ReadState } from "../../src/raft/types.ts";

/** One replica of the test cluster. */
export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  /** What this replica's state machine encodes as its snapshot (tests may replace it). */
  takeSnapshot: () => Uint8Array;
  /** The data of the last snapshot restored from the leader. */
  restored: Uint8Array | undefined;
}

/** Options for a test cluster. */
export interface TestClusterOptions {
  size: number;
  seed?: number;
  config?: Partial<RaftConfig>;
  snapshotEntries?: number;
}

/** A cluster whose network is a FIFO queue delivered by `deliver()`; `drop` filters messages. */
export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Return true to drop a message. */
  drop: (m: Message) => boolean = () => false;
  sent = 0;
  private readonly options: TestClusterOptions;

  constructor(options: TestClusterOptions) {
    this.options = options;
    const voters = Array.from({ length: options.size }, (_, i) => i + 1);
    for (const id of voters) {
      const storage = MemoryStorage.bootstrap({ ...emptyConfState(), voters });
      this.start(id, storage);
    }
    this.process(); // apply the bootstrap configuration entry
  }

  /** (Re)starts replica `id` from `storage`, as after a crash: volatile state is rebuilt (`more` adds to the config). */
  start(id: NodeId, storage: MemoryStorage, more: Partial<RaftConfig> = {}): TestNode {
    const rng = createRng((this.options.seed ?? 1) * 1000 + id);
    const snapshotIndex = storage.snapshot().meta.index;
    const config: RaftConfig = { id, electionTicks: 10, heartbeatTicks: 1, rng, applied: snapshotIndex, ...this.options.config, ...more };
    const node: TestNode = {
      id,
      node: new RawNode(config, storage),
      storage,
      applied: [],
      readStates: [],
      takeSnapshot: () => new Uint8Array(),
      restored: undefined,
    };
    this.nodes.set(id, node);
    return node;
  }

  /** The replica with id `id`. */
  get(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Runs the driver on every replica. */
  process(): void {
    for (const n of this.nodes.values()) {
      drive(n.node, {
        store: n.storage,
        send: (messages) => {
          this.sent += messages.length;
          for (const m of messages) if (!this.drop(m)) this.queue.push(m);
        },
        apply: (entry) => void n.applied.push(entry),
        restore: (snapshot) => {
          n.applied = [];
          n.restored = snapshot.data;
        },
        takeSnapshot: () => n.takeSnapshot(),
        readStates: (states) => void n.readStates.push(...states),
      }, { snapshotEntries: this.options.snapshotEntries ?? 1_000_000 });
    }
  }

  /** Delivers queued messages (and those they cause) until the network is quiet. */
  deliver(limit = 100_000): void {
    this.process();
    for (let i = 0; i < limit && this.queue.length > 0; i++) {
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.nodes.get(m.to)?.node.step(m);
      this.process();
    }
  }

  /** Ticks every replica `count` times, delivering after each tick. */
  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const n of this.nodes.values()) n.node.tick();
      this.deliver();
    }
  }

  /** Elects `id` by campaigning and delivering. */
  elect(id: NodeId): void {
    this.get(id).node.campaign();
    this.deliver();
  }

  /** The current leader, if exactly one replica believes it leads in the highest term. */
  leader(): TestNode | undefined {
    let best: TestNode | undefined;
    for (const n of this.nodes.values()) {
      const s = n.node.status();
      if (s.role === "leader" && (best === undefined || s.term > best.node.status().term)) best = n;
    }
    return best;
  }
}
