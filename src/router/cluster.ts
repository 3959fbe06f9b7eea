/**
 * The port between the HTTP front door (the Hono app) and the cluster behind it. The app parses,
 * authenticates and shapes responses; a Cluster resolves keys to groups, finds leaders, retries
 * and talks to replicas. Implementations: the Durable Object cluster client (src/router/do-cluster)
 * and, later, the Deno node transport.
 */
import type { KvEntry } from "../kv/store.ts";

/**
 * Which keyspace a request addresses: the shared one, or a tenant's own (created on first use).
 * `origin` is the locationHint nearest to where the request came from (from `request.cf`), when
 * known; the group's leader counts requests by it for leader placement.
 */
export type Keyspace = ({ readonly kind: "shared" } | { readonly kind: "tenant"; readonly tenant: string }) & { readonly origin?: string };

/** How fresh a read must be. */
export type Consistency = "linearizable" | "lease" | "stale";

/** A write precondition: current version equals ifVersion (0 = absent), or the key is absent. */
export type WriteCondition = { readonly ifVersion: number } | { readonly ifAbsent: true };

/** A stored value with its version. */
export interface VersionedValue {
  readonly value: Uint8Array;
  readonly version: number;
}

/** Where a key lives, as reported with every successful write. */
export interface WriteOutcome {
  readonly key: string;
  readonly version: number;
  readonly group: string;
}

/** One operation of POST /v1/batch. */
export type BatchRequestOperation =
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "put"; readonly key: string; readonly value: Uint8Array; readonly condition?: WriteCondition }
  | { readonly op: "delete"; readonly key: string; readonly condition?: WriteCondition };

/** The result of one batch operation, in request order. */
export type BatchResultItem =
  | { readonly ok: true; readonly key: string; readonly group: string; readonly version: number; readonly value?: Uint8Array; readonly found?: boolean }
  | { readonly ok: false; readonly key: string; readonly error: ClusterError };

/** A transaction of POST /v1/txn: keys to read, versions to check (0 = absent), writes; all or nothing. */
export interface TxnRequest {
  readonly reads: readonly string[];
  readonly checks: readonly { readonly key: string; readonly version: number }[];
  readonly writes: readonly ({ readonly op: "put"; readonly key: string; readonly value: Uint8Array } | { readonly op: "delete"; readonly key: string })[];
}

/** A committed transaction: what it read (before its writes) and the version each write took. */
export interface TxnOutcome {
  readonly reads: readonly { readonly key: string; readonly found: boolean; readonly value?: Uint8Array; readonly version: number }[];
  readonly versions: readonly { readonly key: string; readonly version: number }[];
}

/** A page of an ordered scan across groups. */
export interface ScanResult {
  readonly entries: KvEntry[];
  /** Opaque; pass back to continue. Absent on the last page. */
  readonly cursor?: string;
}

/** Shape of a group as the API shows it. */
export interface GroupView {
  readonly name: string;
  readonly state: "creating" | "active" | "deleting";
  /** The keys it owns: a prefix, a half-open range, or a tenant's keyspace. */
  readonly owns: { readonly prefix: string } | { readonly start: string; readonly end?: string } | { readonly tenant: string } | { readonly default: true };
  readonly replicas: readonly { readonly id: number; readonly location: string }[];
  readonly epoch: number;
  /** The half-open key ranges [start, end) the group serves now (end absent: to the end of the keyspace). */
  readonly ranges: readonly { readonly start: string; readonly end?: string }[];
  /** Present when an automatic split made the group; the balancer may merge it back when it goes quiet. */
  readonly auto?: true;
  /** Present for a group of a hashed tenant keyspace: its `ranges` are hash slot positions (4 hex digits each). */
  readonly hashed?: true;  /** A membership change in progress: the replica being added and/or removed (POST .../replicas, DELETE or replace). */
  readonly replicaChange?: { readonly add?: number; readonly remove?: number };
}

/** What a group's leader holds of cross-group transactions: intents on its keys, and records it keeps as coordinator (both 0 when none is unfinished). */
export interface GroupTransactions {
  readonly intents: number;
  readonly records: number;
  /** The leader that answered. */
  readonly replica: number;
}

/** One range move done by POST /v1/ranges/move: the span, its new group, and how many records travelled. */
export interface RangeMoveReport {
  readonly start: string;
  readonly end?: string;
  readonly to: string;
  readonly moved: number;
}

/** The outcome of a leadership transfer: the group's leader before and after, and the term it leads in. */
export interface LeaderTransfer {
  readonly group: string;
  readonly previous: number;
  readonly leader: number;
  readonly term: number;
  /** False when the asked-for (or best) replica already led: nothing was transferred. */
  readonly transferred: boolean;
}

/** A request to create a group. */
export interface GroupSpec {
  readonly name: string;
  readonly owns: { readonly prefix: string } | { readonly start: string; readonly end?: string };
  readonly replicas?: number;
  readonly locations?: readonly string[];
}

/** Health of one group as reported by its replicas. */
export interface GroupHealth {
  readonly name: string;
  readonly leader: number;
  readonly term: number;
  readonly healthy: boolean;
  /** Each replica's state; `lagSeconds` (from the leader) is how long it has been behind the leader's commit, 0 when caught up; `voters` and `learners` are the group's configuration as that replica has applied it. */
  readonly replicas: readonly {
    readonly id: number;
    /** The node that runs it, on a Deno cluster (placement.ts); absent on Cloudflare. */
    readonly node?: number;
    readonly reachable: boolean;
    readonly role?: string;
    readonly commit?: number;
    readonly applied?: number;
    readonly quiesced?: boolean;
    readonly lagSeconds?: number;
    readonly voters?: readonly number[];
    readonly learners?: readonly number[];
    /** Seconds since the replica reported this state (health read from the stats aggregate). */
    readonly reportAgeSeconds?: number;
  }[];
}

/**
 * A failure the HTTP layer maps to a status and a stable problem code. `retryable` failures were
 * already retried by the cluster client before surfacing.
 */
export type ClusterError =
  | { readonly code: "conditionFailed"; readonly currentVersion: number }
  | { readonly code: "notFound" }
  | { readonly code: "groupExists"; readonly detail?: string }
  | { readonly code: "groupNotFound" }
  /** The group may not be removed (it holds slots of a hashed tenant keyspace, which no other group would serve). */
  | { readonly code: "groupProtected"; readonly detail: string }
  | { readonly code: "replicaNotFound"; readonly detail: string }
  | { readonly code: "tooFewReplicas"; readonly detail: string }
  | { readonly code: "tooManyReplicas"; readonly detail: string }
  | { readonly code: "badRequest"; readonly detail: string }
  | { readonly code: "transferFailed"; readonly detail: string; readonly leader: number }
  | { readonly code: "transferTimedOut"; readonly detail: string }
  | { readonly code: "unavailable"; readonly detail: string }
  | { readonly code: "outcomeUnknown"; readonly detail: string }
  /** A transaction did not commit: a check failed on `keys`, or other transactions held them past the wait. */
  | { readonly code: "txnConflict"; readonly keys: readonly string[]; readonly detail: string };

/** Result type of cluster operations: data or a ClusterError. */
export type ClusterResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClusterError };

/** Who a bearer token belongs to. */
export type Principal = { readonly role: "admin" } | { readonly role: "tenant"; readonly tenant: string };

/** Everything the HTTP layer needs from the cluster. */
export interface Cluster {
  get(keyspace: Keyspace, key: string, consistency: Consistency): Promise<ClusterResult<VersionedValue & { group: string }>>;
  put(keyspace: Keyspace, key: string, value: Uint8Array, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome>>;
  delete(keyspace: Keyspace, key: string, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome & { deleted: boolean }>>;
  scan(keyspace: Keyspace, request: { prefix?: string; start?: string; end?: string; limit: number; cursor?: string }, consistency: Consistency): Promise<ClusterResult<ScanResult>>;
  batch(keyspace: Keyspace, operations: readonly BatchRequestOperation[]): Promise<ClusterResult<BatchResultItem[]>>;
  /** Runs a transaction atomically across groups (a snapshot read when it only reads). */
  txn(keyspace: Keyspace, request: TxnRequest): Promise<ClusterResult<TxnOutcome>>;
  listGroups(): Promise<ClusterResult<GroupView[]>>;
  createGroup(spec: GroupSpec): Promise<ClusterResult<GroupView>>;
  getGroup(name: string): Promise<ClusterResult<GroupView & { health: GroupHealth; transactions?: GroupTransactions }>>;
  deleteGroup(name: string): Promise<ClusterResult<{ deleted: true }>>;
  /** Splits a group at `at` (default: its median key); a new group takes the keys from `at` on. Answers the new group. */
  splitGroup(name: string, options: { at?: string; newName?: string }): Promise<ClusterResult<GroupView>>;
  /** `name` absorbs the adjacent group `other`, which is then removed. Answers the surviving group. */
  mergeGroups(name: string, other: string): Promise<ClusterResult<GroupView>>;
  /** Hands the group's leadership to replica `to` (default: the best candidate by leader placement); answers once it finished or failed. */
  transferLeader(name: string, to?: number): Promise<ClusterResult<LeaderTransfer>>;
  /** Creates a tenant's keyspace hashed over `groups` groups (before the tenant's first use). */
  createTenantKeyspace(tenant: string, options: { mode: "hash"; groups: number }): Promise<ClusterResult<{ mode: "hash"; groups: GroupView[] }>>;
  /** Adds a group to a hashed tenant keyspace; it takes its fair share of hash slots. Answers the new group. */
  addTenantGroup(tenant: string): Promise<ClusterResult<GroupView>>;
  /** Moves the keys in [start, end) to group `to`, from whichever groups hold them. */
  moveRange(span: { readonly start: string; readonly end?: string }, to: string): Promise<ClusterResult<{ moves: RangeMoveReport[] }>>;
  /** Adds a replica to a group (learner, caught up, promoted by joint consensus). Answers the group and the new replica's id. */
  addReplica(name: string, options: { readonly location?: string }): Promise<ClusterResult<GroupView & { replica: number }>>;
  /** Removes replica `id` from a group and retires it (leadership moves away first). Answers the group. */
  removeReplica(name: string, id: number): Promise<ClusterResult<GroupView>>;
  /** Adds a new replica, waits until it is a caught-up voter, then removes replica `id`. Answers the group and the new replica's id. */
  replaceReplica(name: string, id: number, options: { readonly location?: string }): Promise<ClusterResult<GroupView & { replica: number }>>;
  /** Issues a new token for `tenant`; only its hash is stored. */
  issueTenantToken(tenant: string): Promise<ClusterResult<{ token: string }>>;
  /** The tenant a tenant token belongs to, or undefined for an unknown token. */
  tenantOfToken(token: string): Promise<string | undefined>;
  health(): Promise<ClusterResult<{ healthy: boolean; groups: GroupHealth[] }>>;
}

/** A fault to inject between the replicas of one group (dev and test only: FAULTS=on). */
export type FaultSpec =
  | { readonly kind: "isolate"; readonly group: string; readonly replica: number }
  | { readonly kind: "drop"; readonly group: string; readonly fraction: number }
  | { readonly kind: "delay"; readonly group: string; readonly fraction: number; readonly delayMs: number }
  | { readonly kind: "crash"; readonly group: string; readonly replica: number }
  /** The next range move to reach phase `before` stops there, as if the router driving it died (this isolate only). */
  | { readonly kind: "haltMove"; readonly before: "freeze" | "copy" | "release" | "acquire" | "route" }
  /** The next two-phase transaction stops after phase `after`, as if the router driving it died (this isolate only): after prepare it answers unavailable, after decide as decided, resolving nothing. */
  | { readonly kind: "haltTxn"; readonly after: "prepare" | "decide" }
  | { readonly kind: "heal"; readonly group?: string };

/** Fault injection, present only when the FAULTS=on setting is. */
export interface FaultControl {
  inject(fault: FaultSpec): Promise<ClusterResult<{ applied: true }>>;
  /** The faults in force, for the dev page and tests. */
  list(): Promise<ClusterResult<FaultSpec[]>>;
}
