/**
 * One replica hosted by a Deno node: its own SQLite file (hosts/common/sqlite stores), its
 * identity row, and the shared ReplicaRuntime. Messages leave through the node's transport; time
 * comes from the node's one ticker, which the replica asks to be woken by (schedule).
 */
import { ReplicaRuntime, type ReplicaTiming } from "../common/replica-runtime.ts";
import type { ReplicaEndpoint, ReplicaIdentity } from "../common/replica-requests.ts";
import { SqliteLogStore } from "../common/sqlite/sqlite-log-store.ts";
import { SyncNotingLogStore } from "./sync-noting-log-store.ts";
import { SqliteKvStore } from "../common/sqlite/sqlite-kv-store.ts";
import { sqliteQuietNote } from "../common/sqlite/quiet-note.ts";
import { KvStateMachine } from "../../kv/state-machine.ts";
import { bootstrapWrite, emptyConfState } from "../../raft/storage.ts";
import type { BootstrapRequest } from "../../multiraft/protocol.ts";
import type { Message } from "../../raft/types.ts";
import { SqliteDatabase } from "./sqlite-database.ts";

/** What the node gives each replica. */
export interface NodeReplicaOptions {
  /** The replica's SQLite file. */
  path: string;
  timing: Partial<ReplicaTiming>;
  /** Hands messages for replica `to` of this group to the node transport. */
  send(group: string, from: number, to: number, messages: Message[]): void;
  /** The replica has (or may have) a new next tick: the node's ticker looks at it again. */
  wake(replica: NodeReplica): void;
  /** A driver pass failed and was rolled back: the node must close this replica and open it again. */
  failed(replica: NodeReplica, error: unknown): void;
}

/** A replica on this node. */
export class NodeReplica implements ReplicaEndpoint {
  identity: ReplicaIdentity | undefined;
  runtime: ReplicaRuntime | undefined;
  /** Raft batches and messages received since start. */
  readonly received = { batches: 0, messages: 0 };
  private readonly options: NodeReplicaOptions;
  private readonly database: SqliteDatabase;
  /** A pass failed: this object must not be used any more (the node reopens the file). */
  private broken = false;

  /** Opens the replica's file and, when it already belongs to a group, starts the replica. */
  constructor(options: NodeReplicaOptions) {
    this.options = options;
    this.database = new SqliteDatabase(options.path);
    const row = this.database.exec("SELECT value FROM raft_state WHERE name = 'identity'").toArray()[0];
    if (row === undefined) return;
    const identity = JSON.parse(String(row.value)) as ReplicaIdentity;
    if (identity.retired) this.identity = identity; // retired: it never runs again
    else this.start(identity);
  }

  bootstrap(request: BootstrapRequest): boolean {
    if (this.identity !== undefined) return this.identity.group === request.group && this.identity.replica === request.replica;
    const identity: ReplicaIdentity = { group: request.group, replica: request.replica, locations: request.locations, owns: request.owns, epoch: request.epoch, retired: false };
    this.database.transaction(() => {
      this.saveIdentity(identity);
      if (request.join !== true) new SqliteLogStore(this.database).save(bootstrapWrite({ ...emptyConfState(), voters: request.voters }));
    });
    this.start(identity);
    return true;
  }

  /** First contact from a peer of a group this replica was not bootstrapped into: it joins with an empty log. */
  adopt(group: string, replica: number): void {
    if (this.identity !== undefined) return;
    const identity: ReplicaIdentity = { group, replica, locations: {}, owns: { default: true }, epoch: 0, retired: false };
    this.database.transaction(() => this.saveIdentity(identity));
    this.start(identity);
  }

  retire(): void {
    if (this.identity === undefined) return;
    this.identity = { ...this.identity, retired: true };
    const identity = this.identity;
    this.database.transaction(() => this.saveIdentity(identity));
    this.runtime?.abandon("the replica was retired");
    this.runtime = undefined; // it never runs again
    this.schedule();
  }

  /** Steps a batch from a peer; the replies leave through the transport like any message. */
  receive(messages: Message[]): void {
    if (this.runtime === undefined || this.broken) return;
    this.received.batches++;
    this.received.messages += messages.length;
    this.runtime.receive(messages);
    this.schedule();
  }

  schedule(): void {
    this.options.wake(this);
  }

  traffic(): unknown {
    return { received: this.received };
  }

  /** The file this replica lives in. */
  get path(): string {
    return this.options.path;
  }

  /** Fails waiting requests and closes the file (the node is stopping, or reopens it). */
  close(): void {
    this.runtime?.abandon("the node is stopping");
    this.database.close();
  }

  private start(identity: ReplicaIdentity): void {
    this.identity = identity;
    const logStore = new SyncNotingLogStore(this.database);
    const kvStore = new SqliteKvStore(this.database);
    const stateMachine = new KvStateMachine(kvStore, { resume: kvStore.readMeta(), resumeSessions: kvStore.readSessions() });
    this.runtime = new ReplicaRuntime({
      group: identity.group,
      id: identity.replica,
      logStore,
      stateMachine,
      send: (to, messages) => this.options.send(identity.group, identity.replica, to, messages),
      nowMs: () => Date.now(),
      seed: Math.floor(Math.random() * 2 ** 31),
      timing: this.options.timing,
      // Synced only when the pass wrote entries, a snapshot, a term or a vote (sqlite-database.ts).
      transaction: (work) => this.atomically(work, () => logStore.takeMustSync()),
      // Commits are fsynced when transaction() returns; waiting one macrotask lets the requests
      // that arrived meanwhile join the leader's next transaction (group commit).
      whenDurable: () => new Promise((resolve) => setTimeout(resolve, 0)),
      pumped: () => this.schedule(),
      applied: () => kvStore.writeMeta(stateMachine.takeMetaChanges()),
      quietNote: sqliteQuietNote(this.database),
    });
    this.schedule();
  }

  /**
   * Runs one driver pass in one transaction. A pass that throws (a bug, a full disk) is rolled
   * back, but the engine and state machine moved ahead of storage in memory: going on from them
   * would serve and replicate state that is not on disk. So the replica fails its waiting requests,
   * stops (`broken`), and the node opens it again from its file, as a Durable Object is reset.
   */
  private atomically<T>(work: () => T, mustSync: () => boolean): T {
    if (this.broken) throw new Error("the replica failed and is being reopened");
    try {
      return this.database.transaction(work, mustSync);
    } catch (error) {
      this.broken = true;
      this.runtime?.abandon("the replica failed and restarts");
      this.options.failed(this, error);
      throw error;
    }
  }

  private saveIdentity(identity: ReplicaIdentity): void {
    this.database.exec(
      "INSERT INTO raft_state (name, value) VALUES ('identity', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      JSON.stringify(identity),
    );
  }
}
