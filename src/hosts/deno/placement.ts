/**
 * Which node holds which replica, computed from names alone (no discovery, as on Cloudflare):
 * replica r of group g lives on node number ((r - 1 + offset(g)) mod n) of the sorted node ids,
 * where offset(g) is a hash of the group's name. A group's replicas land on distinct nodes (while
 * it has no more replicas than there are nodes), and since replica 1 campaigns first, the groups'
 * first leaders spread evenly over the nodes instead of all sitting on one.
 */

/** The node that holds replica `replica` of `group`, among `nodeIds` (any order). */
export function nodeOfReplica(group: string, replica: number, nodeIds: readonly number[]): number {
  const sorted = [...nodeIds].sort((a, b) => a - b);
  const offset = hashOfName(group) % sorted.length;
  return sorted[(replica - 1 + offset) % sorted.length]!;
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
