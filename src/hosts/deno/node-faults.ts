/**
 * Fault injection on a Deno node (dev and tests only: FAULTS=on in the node's environment): the
 * router-side faults, which stop this node's next range move or two-phase transaction as if its
 * router died there. Transport faults (isolate, drop, delay, crash) are Cloudflare-only for now;
 * asked for here they answer 400.
 */
import type { ClusterResult, FaultControl, FaultSpec } from "../../router/cluster.ts";
import type { ClusterClient } from "../../router/cluster-client/cluster-client.ts";

/** FaultControl over a node's cluster client: haltMove and haltTxn. */
export class NodeFaults implements FaultControl {
  private readonly cluster: ClusterClient;

  constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  async inject(fault: FaultSpec): Promise<ClusterResult<{ applied: true }>> {
    if (fault.kind === "heal") return { ok: true, value: { applied: true } }; // the halts are one-shot: nothing stays in force
    if (fault.kind === "haltMove") this.cluster.haltNextMoveBefore(fault.before);
    else if (fault.kind === "haltTxn") this.cluster.haltNextTxnAfter(fault.after);
    else return { ok: false, error: { code: "badRequest", detail: `the Deno host injects only haltMove and haltTxn, not ${fault.kind}` } };
    return { ok: true, value: { applied: true } };
  }

  async list(): Promise<ClusterResult<FaultSpec[]>> {
    return { ok: true, value: [] };
  }
}
