/**
 * The transaction sweep on a Deno node: each replica here that leads a group holding intents or
 * transaction records runs hosts/common/txn-sweep.ts (every sweepIntervalMs, the work handed to the
 * node's cluster client), as a Durable Object does from its alarm. Only replicas whose sweep is due
 * are looked at on each tick, so groups without transactions cost nothing.
 */
import type { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { TxnSweeper, type SweepWork } from "../common/txn-sweep.ts";
import type { NodeReplica } from "./node-replica.ts";

/** Every replica's sweeper on one node, and the replicas that may have a sweep due. */
export class NodeSweeps {
  private readonly cluster: ClusterClient;
  private readonly sweepers = new Map<NodeReplica, TxnSweeper>();
  /** Replicas whose sweeper had a due time when last noted (leaders of groups holding transactions). */
  private readonly due = new Set<NodeReplica>();

  constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  /** Called after every event of `replica`: starts looking at it when it leads a group that holds transactions. */
  note(replica: NodeReplica): void {
    if (replica.runtime === undefined || replica.identity === undefined) return;
    if (this.sweeperOf(replica).dueAtMs() !== null) this.due.add(replica);
  }

  /** Stops looking at `replica` (it is being closed). */
  forget(replica: NodeReplica): void {
    this.due.delete(replica);
    this.sweepers.delete(replica);
  }

  /** Called on every node tick: sweeps each replica whose sweep is due; drops those with nothing left to sweep. */
  tick(): void {
    for (const replica of this.due) {
      const sweeper = this.sweeperOf(replica);
      sweeper.maybeSweep()?.catch((error: unknown) => console.error(`edgeraft node: the transaction sweep of ${replica.scope} failed: ${String(error)}`));
      if (sweeper.dueAtMs() === null) this.due.delete(replica);
    }
  }

  private sweeperOf(replica: NodeReplica): TxnSweeper {
    let sweeper = this.sweepers.get(replica);
    if (sweeper === undefined) {
      sweeper = new TxnSweeper({ runtime: () => replica.runtime, nowMs: () => Date.now(), run: (work) => this.run(replica, work) });
      this.sweepers.set(replica, sweeper);
    }
    return sweeper;
  }

  private async run(replica: NodeReplica, work: SweepWork): Promise<void> {
    const identity = replica.identity;
    if (identity === undefined || identity.retired) return;
    const keyspace = "tenant" in identity.owns ? { kind: "tenant" as const, tenant: identity.owns.tenant } : { kind: "shared" as const };
    await this.cluster.sweepTransactions(keyspace, identity.group, work);
  }
}
