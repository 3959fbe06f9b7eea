/**
 * GET /metrics (admin): Prometheus text format. Per replica: up, role, term, commit and applied
 * index, lag behind its group's leader, log entries, quiesced, and (from sources that report
 * them) proposals, storage transactions and Raft messages and batches sent and received; per
 * group: leader known; and the router's own requests by route and status with a latency histogram.
 */
import type { Hono } from "hono";
import { problemOfClusterError } from "../problem.ts";
import { addRoute } from "../route.ts";
import type { Guards } from "../route.ts";
import { bytesSchema } from "../openapi/operation.ts";
import { expositionContentType, renderExposition, type MetricFamily, type Sample } from "./exposition.ts";
import type { ReplicaMetricsView, ReplicaStats, ReplicaStatsSource } from "./replica-stats.ts";
import { RequestMetrics } from "./request-metrics.ts";
import { txnFamilies } from "./txn-families.ts";

/** Starts counting the app's requests; call before any route is registered so the middleware wraps them all. */
export function registerRequestMetrics(app: Hono): RequestMetrics {
  const requests = new RequestMetrics();
  app.use("*", requests.middleware());
  return requests;
}

/** Registers GET /metrics over `stats` and `requests`. */
export function registerMetricsRoutes(app: Hono, guards: Guards, sources: { stats: ReplicaStatsSource; requests: RequestMetrics }): void {
  addRoute(app, "/metrics", {
    GET: guards.admin(async () => {
      const stats = await sources.stats();
      if (!stats.ok) throw problemOfClusterError(stats.error, "the metrics");
      const body = renderExposition([...replicaFamilies(stats.value), ...txnFamilies(stats.value), ...sources.requests.families()]);
      return new Response(body, { headers: { "content-type": expositionContentType, "cache-control": "no-store" } });
    }),
  }, {
    GET: {
      summary: "Prometheus metrics of every replica and of the router", tag: "service",
      answers: { 200: { description: "Prometheus text exposition format 0.0.4.", schema: bytesSchema, contentType: "text/plain" } }, problems: ["unavailable"],
    },
  });
}

type NumericField = "term" | "commit" | "applied" | "proposals" | "transactions" | "messagesSent" | "messagesReceived" | "batchesSent" | "batchesReceived" | "batchesFailed";

const fieldFamilies: readonly { field: NumericField; name: string; type: "gauge" | "counter"; help: string }[] = [
  { field: "term", name: "edgeraft_replica_term", type: "gauge", help: "The replica's current Raft term." },
  { field: "commit", name: "edgeraft_replica_commit_index", type: "gauge", help: "The highest log index the replica knows is committed." },
  { field: "applied", name: "edgeraft_replica_applied_index", type: "gauge", help: "The highest log index the replica has applied to its state machine." },
  { field: "proposals", name: "edgeraft_replica_proposals_total", type: "counter", help: "Commands proposed on this replica since its object started." },
  { field: "transactions", name: "edgeraft_replica_storage_transactions_total", type: "counter", help: "Storage transactions (log and state writes) since the object started." },
  { field: "messagesSent", name: "edgeraft_replica_raft_messages_sent_total", type: "counter", help: "Raft messages sent to peers since the object started." },
  { field: "messagesReceived", name: "edgeraft_replica_raft_messages_received_total", type: "counter", help: "Raft messages that peers sent to this replica in their requests since the object started (answers to its own requests are not counted)." },
  { field: "batchesSent", name: "edgeraft_replica_raft_batches_sent_total", type: "counter", help: "Requests to peers (each a batch of Raft messages) since the object started." },
  { field: "batchesReceived", name: "edgeraft_replica_raft_batches_received_total", type: "counter", help: "Requests from peers (batches of Raft messages) received since the object started." },
  { field: "batchesFailed", name: "edgeraft_replica_raft_batches_failed_total", type: "counter", help: "Requests to peers that failed (peer unreachable or aborted) since the object started." },
];

type CounterField = Exclude<keyof ReplicaMetricsView, "commitLatency" | "applyLatency">;

const counterFamilies: readonly { field: CounterField; name: string; help: string }[] = [
  { field: "commandsApplied", name: "edgeraft_replica_commands_applied_total", help: "Client commands applied to the replica's state machine since its object started." },
  { field: "bytesReplicated", name: "edgeraft_replica_replicated_bytes_total", help: "Bytes of log entries this replica sent to followers as leader since its object started." },
  { field: "leaderChanges", name: "edgeraft_replica_leader_changes_total", help: "Leaders this replica learned of (a new leader, or the same one at a new term; the first after starting counts, unless resumed from its quiet note) since its object started." },
  { field: "electionsStarted", name: "edgeraft_replica_elections_started_total", help: "Elections this replica started as a candidate since its object started." },
  { field: "electionsWon", name: "edgeraft_replica_elections_won_total", help: "Elections this replica won (became leader) since its object started." },
  { field: "snapshotsSent", name: "edgeraft_replica_snapshots_sent_total", help: "Snapshots this replica started sending to followers since its object started." },
  { field: "snapshotsInstalled", name: "edgeraft_replica_snapshots_installed_total", help: "Snapshots from a leader installed on this replica since its object started." },
  { field: "alarmsFired", name: "edgeraft_replica_alarms_fired_total", help: "Timer (Durable Object alarm) wake-ups of this replica since its object started." },
  { field: "quietResumes", name: "edgeraft_replica_quiet_resumes_total", help: "Starts of this replica that resumed the role and leader of its quiet note (no election, no leader change) since its object started." },
];

/** The replica latency histograms' bucket bounds, in seconds (the replicas report counts per bucket). */
export const replicaLatencyBoundsSeconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The roles a replica reports, as a state set (one series per role, 1 for the current one). */
const roles: readonly string[] = ["leader", "follower", "candidate", "preCandidate"];

/** The per-replica and per-group families of one scrape. */
export function replicaFamilies(stats: readonly ReplicaStats[]): MetricFamily[] {
  const labelsOf = (replica: ReplicaStats) => ({ group: replica.group, replica: String(replica.replica), location: replica.location });
  const reachable = stats.filter((replica) => replica.reachable);
  const leaderCommit = new Map<string, number>();
  for (const replica of reachable) if (replica.role === "leader" && replica.commit !== undefined) leaderCommit.set(replica.group, replica.commit);
  // A group has a leader when one of its replicas shown leads it, or knows who does (it may live elsewhere: a Deno node shows its own replicas).
  const withLeader = new Set(reachable.filter((replica) => replica.role === "leader" || (replica.leader ?? 0) > 0).map((replica) => replica.group));
  const samplesOf = (value: (replica: ReplicaStats) => number | undefined): Sample[] =>
    reachable.flatMap((replica) => {
      const number = value(replica);
      return number === undefined ? [] : [{ labels: labelsOf(replica), value: number }];
    });
  const groups = [...new Set(stats.map((replica) => replica.group))];
  return [
    { name: "edgeraft_replica_up", type: "gauge", help: "1 when the replica's state is known (it reported or answered), else 0; reported state is the last known one.", samples: stats.map((replica) => ({ labels: labelsOf(replica), value: replica.reachable ? 1 : 0 })) },
    {
      name: "edgeraft_replica_role", type: "gauge", help: "The replica's Raft role: 1 for the series of its current role, 0 for the others.",
      samples: reachable.flatMap((replica) => [...new Set([...roles, replica.role ?? "unknown"])].map((role) => ({ labels: { ...labelsOf(replica), role }, value: role === replica.role ? 1 : 0 }))),
    },
    ...fieldFamilies.map(({ field, name, type, help }): MetricFamily => ({ name, type, help, samples: samplesOf((replica) => replica[field]) })),
    {
      name: "edgeraft_replica_lag_entries", type: "gauge", help: "How many committed entries the replica has yet to apply, against its group leader's commit index.",
      samples: samplesOf((replica) => (replica.applied === undefined || !leaderCommit.has(replica.group) ? undefined : Math.max(0, leaderCommit.get(replica.group)! - replica.applied))),
    },
    {
      name: "edgeraft_replica_log_entries", type: "gauge", help: "Entries in the replica's log (after compaction).",
      samples: samplesOf((replica) => (replica.firstIndex === undefined || replica.lastIndex === undefined ? undefined : Math.max(0, replica.lastIndex - replica.firstIndex + 1))),
    },
    { name: "edgeraft_replica_quiesced", type: "gauge", help: "1 when the replica is quiesced (an idle group sends no heartbeats), else 0.", samples: samplesOf((replica) => (replica.quiesced === undefined ? undefined : replica.quiesced ? 1 : 0)) },
    ...counterFamilies.map(({ field, name, help }): MetricFamily => ({ name, type: "counter", help, samples: samplesOf((replica) => replica.metrics?.[field]) })),
    latencyFamily("edgeraft_replica_commit_latency_seconds", "Time from a command's proposal at the leader to its commit, on the leader.", reachable, labelsOf, (metrics) => metrics.commitLatency),
    latencyFamily("edgeraft_replica_apply_latency_seconds", "Time from a command's proposal at the leader to its application there.", reachable, labelsOf, (metrics) => metrics.applyLatency),
    { name: "edgeraft_replica_report_age_seconds", type: "gauge", help: "Seconds since the replica reported the state shown (an idle replica reports once when it goes quiet).", samples: samplesOf((replica) => replica.reportAgeSeconds) },
    {
      name: "edgeraft_group_has_leader", type: "gauge", help: "1 when a replica of the group shown leads it or knows its leader, else 0.",
      samples: groups.map((group) => ({ labels: { group }, value: withLeader.has(group) ? 1 : 0 })),
    },
  ];
}

function latencyFamily(name: string, help: string, replicas: readonly ReplicaStats[], labelsOf: (replica: ReplicaStats) => Record<string, string>, pick: (metrics: ReplicaMetricsView) => ReplicaMetricsView["commitLatency"]): MetricFamily {
  const series = replicas.flatMap((replica) => {
    const histogram = replica.metrics === undefined ? undefined : pick(replica.metrics);
    if (histogram === undefined || histogram.bucketCounts.length !== replicaLatencyBoundsSeconds.length) return [];
    return [{ labels: labelsOf(replica), bucketCounts: histogram.bucketCounts, sum: histogram.sum, count: histogram.count }];
  });
  return { name, type: "histogram", help, bounds: replicaLatencyBoundsSeconds, series };
}
