/**
 * The shapes the v1 HTTP API answers, as the client sees them (docs/api.md). Declared here, not
 * imported from the server, so the client bundles alone into any runtime.
 */

/** How fresh a read must be: linearizable (default), the leader's lease, or whatever a replica applied. */
export type Consistency = "linearizable" | "lease" | "stale";

/** A value read from the store, with the version its ETag carries. */
export interface KvValue {
  readonly key: string;
  /** The exact bytes. */
  readonly value: Uint8Array;
  /** The value as UTF-8 text, or null when the bytes are not UTF-8. */
  readonly text: string | null;
  /** Positive; grows with every write to the key. */
  readonly version: number;
  /** The Raft group that answered. */
  readonly group: string;
}

/** The answer to a successful put. */
export interface WriteResult {
  readonly key: string;
  readonly version: number;
  readonly group: string;
}

/** The answer to a successful delete; `deleted` is false when the key was already absent. */
export interface DeleteResult extends WriteResult {
  readonly deleted: boolean;
}

/** A write condition: `ifMatch` a version (0 = absent), or `ifAbsent` (If-None-Match: *). */
export type WriteCondition = { readonly ifMatch: number; readonly ifAbsent?: never } | { readonly ifAbsent: true; readonly ifMatch?: never };

/** Bounds and paging of a scan; every field optional. */
export interface ScanOptions {
  readonly prefix?: string;
  /** Inclusive lower bound. */
  readonly start?: string;
  /** Exclusive upper bound. */
  readonly end?: string;
  /** Entries per page, 1..1000 (server default 100). */
  readonly limit?: number;
  readonly consistency?: Consistency;
  /** Where to continue: the `cursor` of a previous page. */
  readonly cursor?: string;
}

/** One entry of a scan page. */
export interface ScanEntry {
  readonly key: string;
  readonly version: number;
  readonly value: Uint8Array;
  readonly text: string | null;
}

/** A page of a scan; `cursor` is absent on the last page. */
export interface ScanPage {
  readonly entries: readonly ScanEntry[];
  readonly cursor?: string;
}

/** Bytes or UTF-8 text, for values the caller writes. */
export type ValueInput = string | Uint8Array;

/** One operation of a batch, as the caller gives it. */
export type BatchOperation =
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "put"; readonly key: string; readonly value: ValueInput; readonly ifMatch?: number; readonly ifNoneMatch?: "*" }
  | { readonly op: "delete"; readonly key: string; readonly ifMatch?: number };

/** A transaction (POST /v1/txn): keys to read, versions to check, writes; all or nothing. */
export interface TxnRequest {
  readonly reads?: readonly string[];
  /** `version` 0 or `absent: true`: the key must not exist. */
  readonly checks?: readonly ({ readonly key: string; readonly version: number } | { readonly key: string; readonly absent: true })[];
  readonly writes?: readonly ({ readonly op: "put"; readonly key: string; readonly value: ValueInput } | { readonly op: "delete"; readonly key: string })[];
}

/** A committed transaction: its reads (as before its writes), in request order, and the version each write took. */
export interface TxnResult {
  readonly committed: true;
  readonly reads: readonly { readonly key: string; readonly found: boolean; readonly version: number; readonly value?: Uint8Array; readonly text?: string | null }[];
  readonly versions: Readonly<Record<string, number>>;
}

/** The result of one batch operation, in request order. */
export interface BatchResult {
  readonly op: "get" | "put" | "delete";
  readonly key: string;
  /** 200 on success; otherwise the status the operation alone would have had. */
  readonly status: number;
  readonly group?: string;
  readonly version?: number;
  readonly deleted?: boolean;
  /** Present on a successful get. */
  readonly value?: Uint8Array;
  readonly text?: string | null;
  /** Present on failure: the stable problem code, its detail, and for conditionFailed the current version. */
  readonly code?: string;
  readonly detail?: string;
  readonly currentVersion?: number;
}

/** What a group owns: a prefix, a half-open range, a tenant's keyspace, or every unassigned key. */
export type Ownership =
  | { readonly prefix: string }
  | { readonly start: string; readonly end?: string }
  | { readonly tenant: string }
  | { readonly default: true };

/** A group as GET /v1/groups lists it. */
export interface GroupView {
  readonly name: string;
  readonly state: string;
  /** One ownership today; newer servers may answer a list of them. */
  readonly owns: Ownership | readonly Ownership[];
  readonly replicas: readonly { readonly id: number; readonly location: string }[];
  readonly epoch: number;
  /** The half-open key ranges [start, end) the group serves now (end absent: to the end of the keyspace); absent from older servers. */
  readonly ranges?: readonly KeyRange[];
  /** Present when an automatic split made the group. */
  readonly auto?: true;
  /** A membership change in progress: the replica being added and/or removed. */
  readonly replicaChange?: { readonly add?: number; readonly remove?: number };
}

/** A half-open key range [start, end); no end means to the end of the keyspace. */
export interface KeyRange {
  readonly start: string;
  readonly end?: string;
}

/** Where to split a group (default: its median key) and what to call the new group (default: generated). */
export interface SplitOptions {
  readonly at?: string;
  readonly name?: string;
}

/** The answer of POST /v1/groups/{name}/transfer-leader: the leader before and after, and its term. */
export interface LeaderTransfer {
  readonly group: string;
  readonly previous: number;
  readonly leader: number;
  readonly term: number;
  /** False when the asked-for (or best) replica already led. */
  readonly transferred: boolean;
}

/** One range that POST /v1/ranges/move moved: its span, its new group, and how many records it copied. */
export interface RangeMove extends KeyRange {
  readonly to: string;
  readonly moved: number;
}

/** The answer to POST /v1/ranges/move. */
export interface MoveResult extends KeyRange {
  readonly to: string;
  readonly moves: readonly RangeMove[];
}

/** One replica's state as its group's health reports it. */
export interface ReplicaHealth {
  readonly id: number;
  /** The node that runs the replica, on a Deno cluster; absent on Cloudflare. */
  readonly node?: number;
  readonly reachable: boolean;
  readonly role?: string;
  readonly commit?: number;
  readonly applied?: number;
  readonly quiesced?: boolean;
  /** The group's voters as this replica has applied its configuration. */
  readonly voters?: readonly number[];
  /** The group's learners (replicas still catching up) as this replica has applied its configuration. */
  readonly learners?: readonly number[];
  /** Seconds behind the leader's commit as the leader sees it (0 when caught up; absent when unknown). */
  readonly lagSeconds?: number;
  /** Seconds since the replica reported this state: present when the health was read from its last report (a quiet group), not asked live. */
  readonly reportAgeSeconds?: number;
}

/** Health of one group. `leader` is 0 when none is known. */
export interface GroupHealth {
  readonly name: string;
  readonly leader: number;
  readonly term: number;
  readonly healthy: boolean;
  readonly replicas: readonly ReplicaHealth[];
}

/** A group with its health, as GET /v1/groups/{name} answers. */
export interface GroupDetail extends GroupView {
  readonly health: GroupHealth;
  /** Unfinished cross-group transactions its leader holds: intents on its keys and records it keeps as coordinator (absent when no leader answered). */
  readonly transactions?: { readonly intents: number; readonly records: number; readonly replica: number };
}

/** A request to create a group: exactly one of `prefix` or `start` (with an optional `end`). */
export interface GroupSpec {
  readonly name: string;
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  /** 1..9, server default 3. */
  readonly replicas?: number;
  /** Distinct location hints (wnam, weur, apac, ...). */
  readonly locations?: readonly string[];
}

/** Why the cluster is not healthy: a group without a leader or quorum, or a replica lagging. */
export interface HealthReason {
  readonly code: "noLeader" | "noQuorum" | "lagging" | (string & {});
  readonly group: string;
  readonly replica?: number;
  /** Seconds behind the leader's commit as the leader sees it, for `lagging` (when known). */
  readonly lagSeconds?: number;
  /** Entries behind the leader's commit, for `lagging`. */
  readonly behind?: number;
  readonly detail: string;
}

/** The cluster's health aggregate; GET /v1/health answers it with 200 or 503 (counts, lag limit and reasons absent from older servers). */
export interface ClusterHealth {
  readonly healthy: boolean;
  readonly groups: readonly GroupHealth[];
  /** Groups in total, with a leader, healthy, lagging and quiesced. */
  readonly counts?: { readonly total: number; readonly withLeader: number; readonly healthy: number; readonly lagging: number; readonly quiesced: number };
  /** The lag limit used, in log entries. */
  readonly lagEntriesMax?: number;
  /** The lag limit in seconds used (absent from older servers). */
  readonly lagSecondsMax?: number;
  readonly reasons?: readonly HealthReason[];
}

/** A freshly issued tenant token (shown only once). */
export interface TenantToken {
  readonly tenant: string;
  readonly token: string;
}
