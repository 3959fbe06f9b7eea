/**
 * GET /v1/health's aggregate over the groups' health: how many groups there are, have a leader,
 * are healthy, are lagging (a reachable replica more than `lagEntriesMax` entries behind its
 * leader's commit index, or, as its leader sees it, behind that commit for more than
 * `lagSecondsMax` seconds) and are quiesced; and the reasons the cluster is not healthy, one per
 * leaderless or quorum-less group and one per lagging replica. The cluster is healthy when there
 * are no reasons.
 */
import type { GroupHealth } from "./cluster.ts";

/** How far (in log entries) a replica may trail its leader's commit before it counts as lagging, unless configured. */
export const healthLagEntriesMaxDefault = 1000;
/** How long (in seconds) a replica may trail its leader's commit before it counts as lagging, unless configured. */
export const healthLagSecondsMaxDefault = 30;

/** Why the cluster is not healthy: a group without a leader or quorum, or one replica lagging. */
export interface HealthReason {
  readonly code: "noLeader" | "noQuorum" | "lagging";
  readonly group: string;
  /** The lagging replica (for `lagging`). */
  readonly replica?: number;
  /** Entries behind the leader's commit (for `lagging`). */
  readonly behind?: number;
  /** Seconds the replica has been behind the leader's commit, as the leader sees it (for `lagging`, when known). */
  readonly lagSeconds?: number;
  readonly detail: string;
}

/** Counts of groups by state. */
export interface HealthCounts {
  readonly total: number;
  readonly withLeader: number;
  readonly healthy: number;
  readonly lagging: number;
  readonly quiesced: number;
}

/** The answer of GET /v1/health: the per-group view as before, with counts, the lag limit used and the reasons. */
export interface HealthSummary {
  readonly healthy: boolean;
  readonly counts: HealthCounts;
  readonly lagEntriesMax: number;
  readonly lagSecondsMax: number;
  readonly reasons: readonly HealthReason[];
  readonly groups: readonly GroupHealth[];
}

/** The replicas of `group` more than `lagEntriesMax` entries or `lagSecondsMax` seconds behind its leader's commit, with how far. */
export function laggingReplicasOf(group: GroupHealth, lagEntriesMax: number, lagSecondsMax = Number.POSITIVE_INFINITY): { replica: number; behind: number; lagSeconds?: number }[] {
  const leaderCommit = group.replicas.find((replica) => replica.id === group.leader && replica.reachable)?.commit;
  if (leaderCommit === undefined) return [];
  return group.replicas.flatMap((replica) => {
    if (!replica.reachable || replica.applied === undefined) return [];
    const behind = leaderCommit - replica.applied;
    const seconds = replica.lagSeconds === undefined ? {} : { lagSeconds: replica.lagSeconds };
    return behind > lagEntriesMax || (replica.lagSeconds ?? 0) > lagSecondsMax ? [{ replica: replica.id, behind, ...seconds }] : [];
  });
}

/** True when every reachable replica of `group` is quiesced (and at least one is reachable). */
export function isQuiesced(group: GroupHealth): boolean {
  const reachable = group.replicas.filter((replica) => replica.reachable);
  return reachable.length > 0 && reachable.every((replica) => replica.quiesced === true);
}

/** The aggregate of `groups` with lag limits `lagEntriesMax` and `lagSecondsMax`. */
export function summarizeHealth(groups: readonly GroupHealth[], lagEntriesMax: number, lagSecondsMax = healthLagSecondsMaxDefault): HealthSummary {
  const reasons: HealthReason[] = [];
  let lagging = 0;
  for (const group of groups) {
    if (group.leader === 0) reasons.push({ code: "noLeader", group: group.name, detail: `group ${group.name} has no leader at term ${group.term}` });
    else if (!group.healthy) reasons.push({ code: "noQuorum", group: group.name, detail: `group ${group.name}: leader ${group.leader} is not known to a majority of its replicas` });
    const behind = laggingReplicasOf(group, lagEntriesMax, lagSecondsMax);
    if (behind.length > 0) lagging++;
    for (const { replica, behind: entries, lagSeconds } of behind) {
      const overEntries = entries > lagEntriesMax ? `${entries} entries behind its leader (more than ${lagEntriesMax})` : undefined;
      const overSeconds = lagSeconds !== undefined && lagSeconds > lagSecondsMax ? `behind its leader for ${lagSeconds.toFixed(1)} s (more than ${lagSecondsMax} s)` : undefined;
      const detail = `group ${group.name}: replica ${replica} is ${[overEntries, overSeconds].filter((part) => part !== undefined).join(", and ")}`;
      reasons.push({ code: "lagging", group: group.name, replica, behind: entries, ...(lagSeconds === undefined ? {} : { lagSeconds }), detail });
    }
  }
  const counts: HealthCounts = {
    total: groups.length,
    withLeader: groups.filter((group) => group.leader > 0).length,
    healthy: groups.filter((group) => group.healthy).length,
    lagging,
    quiesced: groups.filter(isQuiesced).length,
  };
  return { healthy: reasons.length === 0, counts, lagEntriesMax, lagSecondsMax, reasons, groups };
}
