/**
 * Where per-replica numbers for /metrics come from. Any Cluster gives the health view (reachable,
 * role, commit, applied, quiesced); the Durable Object cluster client can also ask every replica,
 * the metadata group's included, for its full /internal/status (term, log bounds, proposals,
 * storage transactions, Raft messages and batches sent and received since the object started).
 */
import type { Cluster, ClusterResult } from "../cluster.ts";
import type { ClusterClient } from "../cluster-client/cluster-client.ts";
import { metaGroup, type GroupDescriptor } from "../cluster-client/directory.ts";

/** One replica's numbers; absent fields are unknown (unreachable, or not reported by the source). */
export interface ReplicaStats {
  /** The leader this replica knows (0: none). */
  readonly leader?: number;
  readonly group: string;
  readonly replica: number;
  readonly location: string;
  readonly reachable: boolean;
  readonly role?: string;
  readonly term?: number;
  readonly commit?: number;
  readonly applied?: number;
  readonly firstIndex?: number;
  readonly lastIndex?: number;
  readonly quiesced?: boolean;
  readonly proposals?: number;
  readonly transactions?: number;
  readonly messagesSent?: number;
  readonly messagesReceived?: number;
  readonly batchesSent?: number;
  readonly batchesReceived?: number;
  readonly batchesFailed?: number;
  /** Intents of cross-group transactions on the group's keys, and transaction records it keeps, in this replica's state machine. */
  readonly txnIntents?: number;
  readonly txnRecords?: number;
  /** Counters and latency histograms the replica reported (hosts/common/replica-metrics.ts). */
  readonly metrics?: ReplicaMetricsView;
  /** Seconds since the replica reported this state (for sources that read reports). */
  readonly reportAgeSeconds?: number;
}

/** A latency histogram as a replica reports it: counts per bucket (not cumulative), sum and count. */
export interface LatencyView {
  readonly bucketCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The counters and histograms a replica reports. */
export interface ReplicaMetricsView {
  readonly commandsApplied: number;
  readonly bytesReplicated: number;
  readonly leaderChanges: number;
  readonly electionsStarted: number;
  readonly electionsWon: number;
  readonly snapshotsSent: number;
  readonly snapshotsInstalled: number;
  readonly alarmsFired: number;
  /** Starts that resumed a quiet note's role and leader (absent in reports from before it was counted). */
  readonly quietResumes?: number;
  readonly commitLatency: LatencyView;
  readonly applyLatency: LatencyView;
}

/** One replica's last report to the stats aggregate (what hosts/common/stats-reporter.ts sends). */
export interface ReplicaReportView {
  readonly group: string;
  readonly replica: number;
  readonly location: string;
  readonly retired: boolean;
  readonly atMs: number;
  readonly status: NonNullable<StatusAnswer["status"]> & { metrics?: ReplicaMetricsView; conf?: { voters: number[]; learners: number[] }; followerLagMs?: Record<string, number> };
  readonly traffic?: StatusAnswer["traffic"];
}

/**
 * Stats from the replicas' own reports to an aggregate (`read` fetches them): the scrape asks no
 * replica and no metadata replica, so it wakes no idle group. Each replica shows its last known
 * state; a removed group's replicas are left out; `nowMs` ages the reports.
 */
export function statsOfReports(read: () => Promise<readonly ReplicaReportView[]>, nowMs: () => number): ReplicaStatsSource {
  return async () => {
    let reports: readonly ReplicaReportView[];
    try {
      reports = await read();
    } catch (error) {
      return { ok: false, error: { code: "unavailable", detail: `the stats aggregate could not be read: ${error instanceof Error ? error.message : String(error)}` } };
    }
    const now = nowMs();
    const stats = reports.filter((report) => !report.retired && report.status !== undefined).map((report): ReplicaStats => {
      const status = report.status!;
      return {
        ...statsOfStatus({ group: report.group, replica: report.replica, location: report.location }, status, report.traffic),
        ...(status.metrics === undefined ? {} : { metrics: status.metrics }),
        reportAgeSeconds: Math.max(0, (now - report.atMs) / 1000),
      };
    });
    stats.sort((left, right) => (left.group === right.group ? left.replica - right.replica : left.group < right.group ? -1 : 1));
    return { ok: true, value: stats };
  };
}

/** ReplicaStats of a reachable replica from its status and traffic. */
function statsOfStatus(base: { group: string; replica: number; location: string }, status: NonNullable<StatusAnswer["status"]>, traffic: StatusAnswer["traffic"]): ReplicaStats {
  const sent = traffic?.sent;
  const received = traffic?.received;
  return {
    ...base, reachable: true, role: status.role, term: status.term, commit: status.commit, applied: status.applied,
    ...(status.leader === undefined ? {} : { leader: status.leader }),
    firstIndex: status.firstIndex, lastIndex: status.lastIndex, quiesced: status.quiesced,
    ...(status.proposals === undefined ? {} : { proposals: status.proposals }),
    ...(status.transactions === undefined ? {} : { transactions: status.transactions }),
    ...(status.txnIntents === undefined ? {} : { txnIntents: status.txnIntents }),
    ...(status.txnRecords === undefined ? {} : { txnRecords: status.txnRecords }),
    ...(sent === undefined ? {} : { messagesSent: sent.messagesSent, batchesSent: sent.batchesSent, batchesFailed: sent.batchesFailed }),
    ...(received === undefined ? {} : { messagesReceived: received.messages, batchesReceived: received.batches }),
  };
}

/** Produces every replica's stats for one scrape. */
export type ReplicaStatsSource = () => Promise<ClusterResult<ReplicaStats[]>>;

/** Stats from the Cluster port alone: its group list (locations) and health view. */
export function statsOfCluster(cluster: Cluster): ReplicaStatsSource {
  return async () => {
    const [groups, health] = await Promise.all([cluster.listGroups(), cluster.health()]);
    if (!groups.ok) return groups;
    if (!health.ok) return health;
    const healthOf = new Map(health.value.groups.map((group) => [group.name, group]));
    return {
      ok: true,
      value: groups.value.flatMap((group) => group.replicas.map((replica): ReplicaStats => {
        const groupHealth = healthOf.get(group.name);
        const status = groupHealth?.replicas.find((candidate) => candidate.id === replica.id);
        if (status === undefined || !status.reachable) return { group: group.name, replica: replica.id, location: replica.location, reachable: false };
        const role = status.role ?? (groupHealth?.leader === replica.id ? "leader" : undefined);
        return {
          group: group.name, replica: replica.id, location: replica.location, reachable: true,
          ...(role === undefined ? {} : { role }),
          ...(role === "leader" && groupHealth !== undefined ? { term: groupHealth.term } : {}),
          ...(status.commit === undefined ? {} : { commit: status.commit }),
          ...(status.applied === undefined ? {} : { applied: status.applied }),
          ...(status.quiesced === undefined ? {} : { quiesced: status.quiesced }),
        };
      })),
    };
  };
}

/** What a replica's /internal/status answers (the fields used here). */
interface StatusAnswer {
  kind?: string;
  status?: { role: string; term: number; leader?: number; commit: number; applied: number; firstIndex: number; lastIndex: number; quiesced: boolean; proposals?: number; transactions?: number; txnIntents?: number; txnRecords?: number };
  traffic?: { received?: { batches: number; messages: number }; sent?: { batchesSent: number; messagesSent: number; batchesFailed: number } };
}

/** Stats from every replica's own status, through the Durable Object cluster client. */
export function statsOfClusterClient(client: ClusterClient): ReplicaStatsSource {
  return async () => {
    const groups = await client.groups.list();
    if (!groups.ok) return groups;
    const descriptors: GroupDescriptor[] = [metaGroup, ...groups.value];
    const stats = await Promise.all(descriptors.flatMap((group) => group.replicas.map(async (replica): Promise<ReplicaStats> => {
      const answer = await client.caller.direct<StatusAnswer>(group, replica.id, "/internal/status", undefined);
      const status = answer?.status;
      const base = { group: group.name, replica: replica.id, location: replica.location };
      if (answer?.kind !== "ok" || status === undefined) return { ...base, reachable: false };
      return statsOfStatus(base, status, answer.traffic);
    })));
    return { ok: true, value: stats };
  };
}

/** A replica hosted in this process, as statsOfLocalReplicas reads it. */
export interface LocalReplica {
  readonly identity: { readonly group: string; readonly replica: number; readonly locations: Readonly<Record<string, string>>; readonly retired: boolean } | undefined;
  readonly runtime: { status(): NonNullable<StatusAnswer["status"]> & { leader: number; metrics?: ReplicaMetricsView } } | undefined;
  traffic(): unknown;
}

/**
 * Stats of the replicas this process hosts (a Deno node), read in memory: nothing is sent and no
 * replica is woken. Each node reports its own replicas; a scrape config lists every node.
 */
export function statsOfLocalReplicas(replicas: () => Iterable<LocalReplica>): ReplicaStatsSource {
  return async () => {
    const stats: ReplicaStats[] = [];
    for (const replica of replicas()) {
      const identity = replica.identity;
      if (identity === undefined || identity.retired || replica.runtime === undefined) continue;
      const status = replica.runtime.status();
      const base = { group: identity.group, replica: identity.replica, location: identity.locations[String(identity.replica)] ?? "" };
      stats.push({ ...statsOfStatus(base, status, replica.traffic() as StatusAnswer["traffic"]), ...(status.metrics === undefined ? {} : { metrics: status.metrics }) });
    }
    stats.sort((left, right) => (left.group === right.group ? left.replica - right.replica : left.group < right.group ? -1 : 1));
    return { ok: true, value: stats };
  };
}
