/**
 * GET /v1/health and GET /v1/groups/{name} from the replicas' last reports to the stats aggregate
 * (the one GET /metrics reads) for quiet groups: a group every replica of which last reported
 * itself quiesced is not asked, so a health check or an inspection wakes no idle group and starts
 * no election in one, and shows each replica's last known state with its age. A quiet report stays
 * true until the replica is used again, and leaving quiescence is reported at once. Any other group
 * is asked directly: its replicas are awake anyway, and their reports (at most one per replica
 * every two seconds while only progress moves) may trail their commit. A group with no report yet
 * (created before the aggregate existed, or its reports lost) is asked too, which makes its
 * replicas report.
 */
import type { ClusterResult, GroupHealth } from "../cluster.ts";
import type { GroupDescriptor } from "../cluster-client/directory.ts";
import { transactionsOf } from "../cluster-client/group-transactions.ts";
import type { GroupInspection } from "../cluster-client/health.ts";
import type { ReplicaReportView } from "./replica-stats.ts";

/** Every group's health, as GET /v1/health reads it. */
export type GroupHealthSource = () => Promise<ClusterResult<{ healthy: boolean; groups: GroupHealth[] }>>;

/** What healthOfReports reads: the group list, the reports, the fallback that asks a group's replicas, and the clock. */
export interface ReportHealthSources {
  readonly list: () => Promise<ClusterResult<readonly GroupDescriptor[]>>;
  readonly read: () => Promise<readonly ReplicaReportView[]>;
  readonly ask: (group: GroupDescriptor) => Promise<GroupHealth>;
  readonly nowMs: () => number;
}

/** Health of every listed group: a quiet one from the reports, any other (every group, when the aggregate cannot be read) asked. */
export function healthOfReports(sources: ReportHealthSources): GroupHealthSource {
  return async () => {
    const listed = await sources.list();
    if (!listed.ok) return listed;
    const byReplica = keyed(await sources.read().catch(() => []));
    const now = sources.nowMs();
    const groups = await Promise.all(listed.value.map(async (group) => quietHealthOfReports(group, byReplica, now) ?? (await sources.ask(group))));
    return { ok: true, value: { healthy: groups.every((group) => group.healthy), groups } };
  };
}

/**
 * GET /v1/groups/{name}'s inspection of a quiet group from its replicas' last reports: the health
 * GET /v1/health shows, and the transaction counts of the leader's report. Undefined (ask the
 * group) for any group /v1/health asks, and when the reports cannot be read.
 */
export function quietInspectionOfReports(sources: Pick<ReportHealthSources, "read" | "nowMs">): (group: GroupDescriptor) => Promise<GroupInspection | undefined> {
  return async (group) => {
    const byReplica = keyed(await sources.read().catch(() => []));
    const health = quietHealthOfReports(group, byReplica, sources.nowMs());
    if (health === undefined) return undefined;
    return { health, ...transactionsOf(health.leader, byReplica.get(`${group.name}/${health.leader}`)?.status) };
  };
}

/** The reports keyed `group/replica`, as groupHealthOfReports reads them. */
function keyed(reports: readonly ReplicaReportView[]): Map<string, ReplicaReportView> {
  return new Map(reports.map((report) => [`${report.group}/${report.replica}`, report]));
}

/** The group's health from the reports when every replica of it last reported itself quiesced; undefined otherwise. */
function quietHealthOfReports(group: GroupDescriptor, reports: ReadonlyMap<string, ReplicaReportView>, nowMs: number): GroupHealth | undefined {
  const known = groupHealthOfReports(group, reports, nowMs);
  return known !== undefined && known.replicas.every((replica) => replica.reachable && replica.quiesced === true) ? known : undefined;
}

/**
 * A group's health from its replicas' last reports (keyed `group/replica`), as groupHealth computes
 * it from their answers: the newest term any replica reports, its leader, healthy when a majority
 * of the replicas name it. A replica with no report (or a retired one) counts as unreachable.
 * Undefined when no replica of the group has reported.
 */
export function groupHealthOfReports(group: GroupDescriptor, reports: ReadonlyMap<string, ReplicaReportView>, nowMs: number): GroupHealth | undefined {
  const reported = group.replicas.map((replica) => {
    const report = reports.get(`${group.name}/${replica.id}`);
    return report === undefined || report.retired || report.status === undefined ? undefined : report;
  });
  if (reported.every((report) => report === undefined)) return undefined;
  const statuses = reported.flatMap((report) => (report === undefined ? [] : [report.status]));
  const term = Math.max(0, ...statuses.map((status) => status.term));
  const leaderStatus = statuses.find((status) => status.role === "leader" && status.term === term);
  const replicas = group.replicas.map((replica, i) => {
    const report = reported[i];
    // Lag in seconds as the leader last saw it: its own is 0; a follower it did not track has none
    // (a stale leader of an older term is a follower to it).
    const lagMs = report !== undefined && report.status === leaderStatus ? 0 : leaderStatus?.followerLagMs?.[String(replica.id)];
    const lag = lagMs === undefined ? {} : { lagSeconds: lagMs / 1000 };
    if (report === undefined) return { id: replica.id, reachable: false, ...lag };
    const status = report.status;
    const membership = status.conf === undefined ? {} : { voters: status.conf.voters, learners: status.conf.learners };
    const reportAgeSeconds = Math.max(0, (nowMs - report.atMs) / 1000);
    return { id: replica.id, reachable: true, role: status.role, commit: status.commit, applied: status.applied, quiesced: status.quiesced, ...lag, ...membership, reportAgeSeconds };
  });
  const leaders = statuses.filter((status) => status.term === term && (status.leader ?? 0) > 0).map((status) => status.leader ?? 0);
  const leader = leaders[0] ?? 0;
  const majority = Math.floor(group.replicas.length / 2) + 1;
  const healthy = leader > 0 && leaders.filter((id) => id === leader).length >= majority;
  return { name: group.name, leader, term, healthy, replicas };
}
