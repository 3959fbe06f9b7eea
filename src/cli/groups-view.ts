/** How the CLI shows groups: what a group owns in words, and tables of groups and replicas with their health. */
import type { ClusterHealth, GroupHealth, GroupView, KeyRange, Ownership } from "../client/index.ts";
import { table } from "./output.ts";

/** One ownership in words: `prefix users/`, `range [a, m)`, `tenant acme`, `the rest`. */
export function describeOwnership(owns: Ownership): string {
  if ("prefix" in owns) return `prefix ${JSON.stringify(owns.prefix)}`;
  if ("tenant" in owns) return `tenant ${owns.tenant}`;
  if ("start" in owns) return `range [${JSON.stringify(owns.start)}, ${owns.end === undefined ? "end" : JSON.stringify(owns.end)})`;
  return "every other key";
}

/** Everything a group owns (one ownership or several), in words. */
export function describeOwnerships(owns: GroupView["owns"]): string {
  return (Array.isArray(owns) ? owns : [owns as Ownership]).map(describeOwnership).join(", ");
}

/** Key ranges in words: `["a", "m") ["x", end)`, or `nothing` when there are none. */
export function describeRanges(ranges: readonly KeyRange[] | undefined): string {
  if (ranges === undefined) return "?";
  if (ranges.length === 0) return "nothing";
  return ranges.map((range) => `[${JSON.stringify(range.start)}, ${range.end === undefined ? "end" : JSON.stringify(range.end)})`).join(" ");
}

/** How far each replica's applied index is behind the leader's commit (or the highest commit known). */
export function lagOf(health: GroupHealth, replicaId: number): number | undefined {
  const replica = health.replicas.find((candidate) => candidate.id === replicaId);
  if (replica?.applied === undefined) return undefined;
  const leader = health.replicas.find((candidate) => candidate.id === health.leader);
  const reference = leader?.commit ?? Math.max(0, ...health.replicas.map((candidate) => candidate.commit ?? 0));
  return Math.max(0, reference - replica.applied);
}

/** How long a replica has been behind its leader's commit, as the leader sees it, in seconds (undefined when unknown). */
export function lagSecondsOf(health: GroupHealth, replicaId: number): number | undefined {
  return health.replicas.find((candidate) => candidate.id === replicaId)?.lagSeconds;
}

/** Seconds for a table: `1.2s`, or empty when unknown. */
export function formatLagSeconds(seconds: number | undefined): string {
  return seconds === undefined ? "" : `${seconds.toFixed(1)}s`;
}

/** The longest lag in seconds among `health`'s replicas (undefined when the leader reports none). */
export function groupLagSecondsOf(health: GroupHealth | undefined): number | undefined {
  const known = (health?.replicas ?? []).flatMap((replica) => (replica.lagSeconds === undefined ? [] : [replica.lagSeconds]));
  return known.length === 0 ? undefined : Math.max(...known);
}

/** The table of groups: ownership, replicas, leader, term, commit, lag (entries and seconds), quiesced, health, and the ranges served (last: the widest). */
export function groupsTable(groups: readonly GroupView[], health: ClusterHealth | undefined): string {
  const healthOf = new Map(health?.groups.map((group) => [group.name, group]) ?? []);
  const rows = groups.map((group) => {
    const groupHealth = healthOf.get(group.name);
    const leaderNode = groupHealth?.replicas.find((replica) => replica.id === groupHealth.leader)?.node; // on a Deno cluster
    const leaderLocation = leaderNode === undefined ? group.replicas.find((replica) => replica.id === groupHealth?.leader)?.location : `node${leaderNode}`;
    const lags = groupHealth === undefined ? [] : group.replicas.map((replica) => lagOf(groupHealth, replica.id) ?? 0);
    const quiesced = groupHealth?.replicas.filter((replica) => replica.quiesced === true).length ?? 0;
    const commit = groupHealth?.replicas.find((replica) => replica.id === groupHealth.leader)?.commit;
    return [
      `${group.name}${group.auto === true ? " (auto)" : ""}`, describeOwnerships(group.owns), group.replicas.length,
      groupHealth === undefined || groupHealth.leader === 0 ? "none" : `${groupHealth.leader}@${leaderLocation ?? "?"}`,
      groupHealth?.term ?? "", commit ?? "", lags.length === 0 ? "" : Math.max(...lags), formatLagSeconds(groupLagSecondsOf(groupHealth)),
      `${quiesced}/${group.replicas.length}`, groupHealth === undefined ? "?" : groupHealth.healthy ? "yes" : "NO", describeRanges(group.ranges),
    ];
  });
  return table(["GROUP", "OWNS", "REPLICAS", "LEADER", "TERM", "COMMIT", "LAG", "LAG TIME", "QUIESCED", "HEALTHY", "RANGES"], rows);
}

/** The table of one group's replicas; the leader is marked with `*`; LOCATION is the node that runs it on a Deno cluster. */
export function replicasTable(group: GroupView, health: GroupHealth): string {
  const rows = group.replicas.map((replica) => {
    const state = health.replicas.find((candidate) => candidate.id === replica.id);
    const reachable = state?.reachable === true;
    return [
      `${replica.id}${replica.id === health.leader ? "*" : ""}`, state?.node === undefined ? replica.location : `node ${state.node}`, reachable ? (state?.role ?? "?") : "unreachable",
      state?.commit ?? "", state?.applied ?? "", lagOf(health, replica.id) ?? "", formatLagSeconds(lagSecondsOf(health, replica.id)), state?.quiesced === true ? "yes" : reachable ? "no" : "",
    ];
  });
  return table(["REPLICA", "LOCATION", "ROLE", "COMMIT", "APPLIED", "LAG", "LAG TIME", "QUIESCED"], rows);
}
