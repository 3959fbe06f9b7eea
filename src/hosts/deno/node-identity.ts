/**
 * What a node's data directory records about the node that made it, checked at every start, as
 * etcd checks a member's id and TiKV its store ident: the node's id and the ids of the cluster's
 * nodes. Placement (placement.ts) computes the node of every replica from those ids, so a directory
 * started under another `--id`, or with a `--nodes` naming other ids, would run its replicas where
 * no peer sends their messages, while the nodes the new ids place them on adopt empty copies of
 * them (replica-adoption.ts): groups that cannot elect a leader until the old settings are back.
 * Such a start is refused, saying what to do instead. Addresses may change freely.
 */
import { nodeOfReplica } from "./placement.ts";
import type { NodeStorage } from "./node-storage.ts";

/** A node's id and the ids of every node of its cluster (sorted). */
export interface NodeIdentity {
  node: number;
  nodes: number[];
}

/** A replica with rows in the directory. */
export interface ReplicaHeld {
  group: string;
  replica: number;
}

/** A data directory this node must not open (another node's, another cluster layout's, an older format): the node exits 2 with the message, no stack trace. */
export class DataDirectoryRefused extends Error {
  override readonly name = "DataDirectoryRefused";
}

const listed = (ids: readonly number[]) => ids.join(", ");

/**
 * Why a node started as `self` must not open `directory`, which recorded `recorded` (undefined: made
 * before identities were recorded) and holds `replicas`; undefined when it may.
 */
export function identityRefusal(directory: string, recorded: NodeIdentity | undefined, self: NodeIdentity, replicas: readonly ReplicaHeld[]): string | undefined {
  const nodes = [...self.nodes].sort((a, b) => a - b);
  if (recorded !== undefined && recorded.node !== self.node) {
    return `${directory} is the data directory of node ${recorded.node}, not of node ${self.node}: start it with --id ${recorded.node}, and give node ${self.node} its own directory back (directories swapped between nodes: swap them back)`;
  }
  if (recorded !== undefined && listed(recorded.nodes) !== listed(nodes)) {
    return `${directory} was made in a cluster of nodes ${listed(recorded.nodes)}, and --nodes names nodes ${listed(nodes)}: replicas are placed by the node ids, so other ids would move every group's replicas away from their data; adding or removing nodes is not supported yet. Start with --nodes naming nodes ${listed(recorded.nodes)} (their addresses may change)`;
  }
  const misplaced = replicas.find(({ group, replica }) => nodeOfReplica(group, replica, nodes) !== self.node);
  if (misplaced !== undefined) {
    const owner = nodeOfReplica(misplaced.group, misplaced.replica, nodes);
    return `${directory} holds replica ${misplaced.replica} of group ${misplaced.group}, which nodes ${listed(nodes)} place on node ${owner}, not on node ${self.node}: is it node ${owner}'s directory, or did the node ids in --nodes change?`;
  }
  return undefined;
}

/**
 * Checks the node's storage against `self` (identityRefusal), recording `self` in it when it
 * recorded nothing yet; when refused, closes the storage, having written nothing but the schema's
 * newest tables, and throws DataDirectoryRefused.
 */
export function checkNodeIdentity(storage: NodeStorage, directory: string, self: NodeIdentity): void {
  const database = storage.database;
  const replicas = storage.identities().map(({ identity }) => JSON.parse(identity) as ReplicaHeld);
  const row = database.exec("SELECT node, nodes FROM node_identity WHERE id = 1").toArray()[0];
  const recorded = row === undefined ? undefined : { node: Number(row.node), nodes: JSON.parse(String(row.nodes)) as number[] };
  const refusal = identityRefusal(directory, recorded, self, replicas);
  if (refusal !== undefined) {
    storage.close();
    throw new DataDirectoryRefused(refusal);
  }
  if (recorded === undefined) database.exec("INSERT INTO node_identity (id, node, nodes) VALUES (1, ?, ?)", self.node, JSON.stringify([...self.nodes].sort((a, b) => a - b)));
}
