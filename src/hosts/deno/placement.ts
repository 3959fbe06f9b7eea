/**
 * Which node holds which replica, computed from names alone (no discovery, as on Cloudflare):
 * replica r of group g lives on node number ((r - 1 + offset(g)) mod n) of the sorted node ids,
 * where offset(g) is a hash of the group's name. A group's replicas land on distinct nodes (while
 * it has no more replicas than there are nodes), and since replica 1 campaigns first, the groups'
 * first leaders spread evenly over the nodes instead of all sitting on one.
 *
 * A replica added later (a membership change) is placed by its id too: the router picks the id
 * (replicaIdOnFreeNode), skipping ids that would land on a node already holding a replica of the
 * group. Ids are never reused, so a skipped id stays unused and every node still computes the same
 * placement from the id alone.
 */
import type { ReplicaToPlace, ReplicaPlacing } from "../../router/cluster-client/replicas.ts";

/** The node that holds replica `replica` of `group`, among `nodeIds` (any order). */
export function nodeOfReplica(group: string, replica: number, nodeIds: readonly number[]): number {
  const sorted = [...nodeIds].sort((a, b) => a - b);
  const offset = hashOfName(group) % sorted.length;
  return sorted[(replica - 1 + offset) % sorted.length]!;
}

/**
 * The id for a new replica of `place.group`, on a node holding the fewest of the group's staying
 * replicas (none, unless the cluster has fewer nodes than the group has replicas) that `reachable`
 * says can be called now, not the leaving one's node (a replace's; it may be the failing one) when
 * another will do; or why there is none. An add is refused (tooManyReplicas) when every node
 * already holds a replica of the group: two on one node are lost together, and a group of four
 * with two on one node loses its majority with that node. A replace is not: it keeps the group's
 * size, and the node the leaving replica frees is one with the fewest. Either answers unavailable
 * when none of those nodes is connected (the new replica could not be created there; retry once one
 * is): a replica is never put beside another of its group to get round a node that is down.
 */
export function replicaIdOnFreeNode(place: ReplicaToPlace, nodeIds: readonly number[], reachable: (node: number) => boolean = () => true): ReplicaPlacing {
  const held = new Map<number, number>(nodeIds.map((node) => [node, 0]));
  for (const id of place.replicas) {
    if (id === place.leaving) continue;
    const node = nodeOfReplica(place.group, id, nodeIds);
    held.set(node, held.get(node)! + 1);
  }
  const fewest = Math.min(...held.values());
  if (place.leaving === undefined && fewest > 0) return { ok: false, code: "tooManyReplicas", detail: `every node of the cluster (${nodeIds.length}) already holds a replica of group ${place.group}; a group has at most one replica per node` };
  const emptiest = nodeIds.filter((node) => held.get(node) === fewest);
  const live = emptiest.filter(reachable);
  if (live.length === 0) return { ok: false, code: "unavailable", detail: `the nodes that can take a new replica of group ${place.group} (${emptiest.join(", ")}) are not connected; try again once one is` };
  const leavingNode = place.leaving === undefined ? undefined : nodeOfReplica(place.group, place.leaving, nodeIds);
  const away = live.filter((node) => node !== leavingNode);
  return idOnOneOf(place, new Set(away.length > 0 ? away : live), nodeIds);
}

/** The lowest id from place.idFrom, not one of the group's, that lands on one of `nodes` (ids cycle through the nodes, so one of the next nodeIds.length ids does). */
function idOnOneOf(place: ReplicaToPlace, nodes: ReadonlySet<number>, nodeIds: readonly number[]): ReplicaPlacing {
  for (let id = place.idFrom; id < place.idFrom + nodeIds.length + place.replicas.length; id++) {
    if (!place.replicas.includes(id) && nodes.has(nodeOfReplica(place.group, id, nodeIds))) return { ok: true, id };
  }
  return { ok: false, code: "unavailable", detail: `no replica id from ${place.idFrom} lands on node ${[...nodes].join(" or ")}` };
}

/**
 * The most replicas a new group may have on a cluster of `nodeIds`: one per node, but never fewer
 * than the three every group starts with by default (a 1- or 2-node cluster, for development,
 * holds some of a group's replicas together).
 */
export function replicasMaxOf(nodeIds: readonly number[]): number {
  return Math.max(3, nodeIds.length);
}

/**
 * The voter of `group` that should lead it when it can: the one on the node of replica 1 (the
 * lowest id there: replica 1 itself until it is replaced, then its successor when it took that
 * node), or else, once replica 1's successor landed on another node (clusters of four nodes or
 * more), one of the voters picked by a second hash of the group's name. Replica 1's node differs
 * from group to group, and so does that pick: leaders stay spread over the nodes, also after a node
 * is lost for good and its replicas are replaced (a fixed pick, the next node's voter, would give
 * that next node every group whose replica 1 was on the lost one). Undefined only without voters.
 */
export function preferredLeaderOf(group: string, voters: readonly number[], nodeIds: readonly number[]): number | undefined {
  if (voters.length === 0) return undefined;
  const home = nodeOfReplica(group, 1, nodeIds);
  const there = voters.filter((id) => nodeOfReplica(group, id, nodeIds) === home);
  if (there.length > 0) return Math.min(...there);
  const sorted = [...voters].sort((a, b) => a - b);
  return sorted[hashOfName(`${group}/leader`) % sorted.length];
}

/** FNV-1a over the name's UTF-16 code units: stable across processes and releases. */
function hashOfName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
