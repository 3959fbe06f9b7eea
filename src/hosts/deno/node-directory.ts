/**
 * The ReplicaDirectory of a Deno node: the router's calls to a replica go to the node that holds
 * it (placement.ts), answered in-process when that is this node and over the node transport
 * otherwise. A node that is not connected makes the call throw, which the router's ReplicaCaller
 * treats as an unreachable replica (it tries the next one). A stale GET asks this node's own
 * replica of the group first (localReplica).
 */
import type { GroupDescriptor, ReplicaDirectory } from "../../router/cluster-client/directory.ts";
import type { ReplicaAnswer } from "../common/replica-requests.ts";

/** How the directory reaches replicas: the node's own dispatcher. */
export interface ReplicaDispatch {
  call(group: string, replica: number, path: string, body: unknown): Promise<ReplicaAnswer>;
  /** This node's id. */
  readonly id: number;
  /** The node that holds replica `replica` of `group` (placement.ts). */
  nodeOf(group: string, replica: number): number;
}

/** A ReplicaDirectory over a node's dispatcher. */
export class NodeDirectory implements ReplicaDirectory {
  private readonly dispatch: ReplicaDispatch;

  constructor(dispatch: ReplicaDispatch) {
    this.dispatch = dispatch;
  }

  async call(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<Response> {
    const answer = await this.dispatch.call(group.name, id, path, body);
    return Response.json(answer.body, { status: answer.status });
  }

  nodeOf(group: GroupDescriptor, id: number): number {
    return this.dispatch.nodeOf(group.name, id);
  }

  /** This node's replica of `group`: a stale GET that finds its key here needs no forward. */
  localReplica(group: GroupDescriptor): number | undefined {
    return group.replicas.find((replica) => this.dispatch.nodeOf(group.name, replica.id) === this.dispatch.id)?.id;
  }
}
