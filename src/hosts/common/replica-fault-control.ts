/**
 * Fault injection for dev and tests (FAULTS=on only), host-neutral: sets transport faults on a
 * group's replicas (`/internal/faults`: isolate, drop, delay) and crash-restarts a replica
 * (`/internal/crash`: a Durable Object aborts and reloads from SQLite; a Deno node closes the
 * replica and opens it again from its rows), each through the replica's own route; and the
 * router-side halts of the next range move or two-phase transaction.
 */
import type { ClusterResult, FaultControl, FaultSpec } from "../../router/cluster.ts";
import type { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { noFaults, type ReplicaFaults } from "../../multiraft/protocol.ts";
import { metaGroup } from "../../router/cluster-client/directory.ts";

/** FaultControl over the cluster client's replica caller. */
export class ReplicaFaultControl implements FaultControl {
  private readonly cluster: ClusterClient;
  private readonly active: FaultSpec[] = [];

  constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  async inject(fault: FaultSpec): Promise<ClusterResult<{ applied: true }>> {
    if (fault.kind === "heal") return this.heal(fault.group);
    if (fault.kind === "haltMove") {
      this.cluster.haltNextMoveBefore(fault.before);
      return { ok: true, value: { applied: true } };
    }
    if (fault.kind === "haltTxn") {
      this.cluster.haltNextTxnAfter(fault.after);
      return { ok: true, value: { applied: true } };
    }
    const group = fault.group === "meta" ? { ok: true as const, value: metaGroup } : await this.cluster.groups.get(fault.group);
    if (!group.ok) return group;
    const caller = this.cluster.caller;
    const replicas = group.value.replicas.map((r) => r.id);
    if (fault.kind === "crash") {
      await caller.direct(group.value, fault.replica, "/internal/crash", {});
      return { ok: true, value: { applied: true } };
    }
    const settings = (id: number): Partial<ReplicaFaults> => {
      if (fault.kind === "isolate") return { isolated: id === fault.replica };
      if (fault.kind === "drop") return { dropFraction: fault.fraction };
      return { delayFraction: fault.fraction, delayMs: fault.delayMs };
    };
    await Promise.all(replicas.map((id) => caller.direct(group.value, id, "/internal/faults", settings(id))));
    this.active.push(fault);
    return { ok: true, value: { applied: true } };
  }

  async list(): Promise<ClusterResult<FaultSpec[]>> {
    return { ok: true, value: [...this.active] };
  }

  private async heal(group: string | undefined): Promise<ClusterResult<{ applied: true }>> {
    const names = group === undefined ? [...new Set(this.active.map((fault) => ("group" in fault ? fault.group : undefined)))] : [group];
    for (const name of names) {
      if (name === undefined) continue;
      const record = name === "meta" ? { ok: true as const, value: metaGroup } : await this.cluster.groups.get(name);
      if (!record.ok) continue;
      await Promise.all(record.value.replicas.map((r) => this.cluster.caller.direct(record.value, r.id, "/internal/faults", noFaults)));
    }
    this.active.splice(0, this.active.length, ...this.active.filter((fault) => group !== undefined && "group" in fault && fault.group !== group));
    return { ok: true, value: { applied: true } };
  }
}
