/** Health of a group, from each replica's own status (reachable, role, term, commit, applied). */
import type { GroupHealth, GroupTransactions } from "../cluster.ts";
import type { GroupDescriptor } from "./directory.ts";
import { leaderTransactions } from "./group-transactions.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** What GET /v1/groups/{name} shows of a group beside its view: its health, and its leader's transaction counts when known. */
export interface GroupInspection {
  readonly health: GroupHealth;
  readonly transactions?: GroupTransactions;
}

/** Asks every replica of `group` for its status, then the leader they name for its transaction counts. */
export async function inspectGroup(caller: ReplicaCaller, group: GroupDescriptor): Promise<GroupInspection> {
  const health = await groupHealth(caller, group);
  return { health, ...(await leaderTransactions(caller, group, health.leader)) };
}

interface StatusReply {
  kind: string;
  status?: { role: string; term: number; leader: number; commit: number; applied: number; quiesced: boolean; followerLagMs?: Record<string, number>; conf?: { voters: number[]; learners: number[] } };
}

/** Asks every replica of `group` for its status; healthy when one leader is known to a majority. */
export async function groupHealth(caller: ReplicaCaller, group: GroupDescriptor): Promise<GroupHealth> {
  const replies = await Promise.all(group.replicas.map((replica) => caller.direct<StatusReply>(group, replica.id, "/internal/status", undefined)));
  const leaderStatus = replies.find((reply) => reply?.status?.role === "leader")?.status;
  const replicas = group.replicas.map((replica, i) => {
    const status = replies[i]?.status;
    // Lag in seconds as the leader sees it: its own is 0; a follower it does not track has none.
    const lagMs = status?.role === "leader" ? 0 : leaderStatus?.followerLagMs?.[String(replica.id)];
    const lag = lagMs === undefined ? {} : { lagSeconds: lagMs / 1000 };
    const node = caller.nodeOf(group, replica.id);
    const where = node === undefined ? {} : { node };
    if (status === undefined) return { id: replica.id, ...where, reachable: false, ...lag };
    const membership = status.conf === undefined ? {} : { voters: status.conf.voters, learners: status.conf.learners };
    return { id: replica.id, ...where, reachable: true, role: status.role, commit: status.commit, applied: status.applied, quiesced: status.quiesced, ...lag, ...membership };
  });
  const statuses = replies.map((reply) => reply?.status).filter((status) => status !== undefined);
  const term = Math.max(0, ...statuses.map((status) => status.term));
  const leaders = statuses.filter((status) => status.term === term && status.leader > 0).map((status) => status.leader);
  const leader = leaders[0] ?? 0;
  const majority = Math.floor(group.replicas.length / 2) + 1;
  const healthy = leader > 0 && leaders.filter((id) => id === leader).length >= majority;
  // A quiet group whose replicas all agree on the leader is healthy too; one with no leader is not.
  return { name: group.name, leader, term, healthy, replicas };
}
