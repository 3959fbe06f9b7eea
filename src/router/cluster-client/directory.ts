/**
 * How the cluster client reaches a replica: by group name and replica id. On Cloudflare a
 * Durable Object stub; on Deno a peer node. Names are deterministic, so no discovery is needed.
 */

/** A group's replicas as the metadata group records them. */
export interface GroupDescriptor {
  name: string;
  replicas: { id: number; location: string }[];
  /** Requests carry this; a replica with a newer epoch answers "stale epoch". */
  epoch: number;
}

/** Sends an internal request to one replica. */
export interface ReplicaDirectory {
  /** POSTs (or GETs when body is undefined) `path` on replica `id` of `group`; throws when unreachable. */
  call(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<Response>;
  /**
   * The replica of `group` that lives where this router runs, reached without a network hop (a
   * Deno node's own replica), if any; a stale GET asks it first (GroupIo).
   */
  localReplica?(group: GroupDescriptor): number | undefined;
  /** The node that runs replica `id` of `group`, where replicas run on numbered nodes (a Deno cluster); shown in the group's health. */
  nodeOf?(group: GroupDescriptor, id: number): number;
}

/** The metadata group: always three replicas, named meta/1 to meta/3. */
export const metaGroup: GroupDescriptor = {
  name: "meta",
  replicas: [
    { id: 1, location: "wnam" },
    { id: 2, location: "weur" },
    { id: 3, location: "apac" },
  ],
  epoch: 0,
};
