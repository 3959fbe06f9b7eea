/**
 * The metadata group's balancer: takes the load reports of data groups' leaders, decides with
 * multiraft/balance.ts, and carries out one automatic split or merge at a time through the same
 * sagas as the admin API (it also resumes any saga left unfinished). Runs at the metadata group's
 * leader only; any router or replica may send it reports.
 */
import { decide, type BalanceThresholds, type GroupLoad } from "../../multiraft/balance.ts";
import type { ClusterClient } from "./cluster-client.ts";

/** What the balancer did about a report (for tests and logs). */
export type BalanceOutcome = { kind: "busy" } | { kind: "none" } | { kind: "split" | "merge"; detail: string; ok: boolean };

/** Decides and runs automatic splits and merges. */
export class Balancer {
  private readonly cluster: ClusterClient;
  private readonly thresholds: BalanceThresholds;
  private readonly latest = new Map<string, GroupLoad>();
  private busy = false;
  /** Per group, the ownership epoch of the report an operation was decided on. */
  private readonly actedAtEpoch = new Map<string, number>();

  constructor(cluster: ClusterClient, thresholds: BalanceThresholds) {
    this.cluster = cluster;
    this.thresholds = thresholds;
  }

  /** Notes `load` and acts on it, unless an operation is already running (the next report will do). */
  async consider(load: GroupLoad): Promise<BalanceOutcome> {
    // A report taken before this balancer last split or merged the group describes a group that
    // no longer exists in that shape (it may arrive late, or from a leader that just lost office).
    if (load.epoch !== undefined && load.epoch <= (this.actedAtEpoch.get(load.group) ?? 0)) return { kind: "none" };
    this.latest.set(load.group, load);
    if (this.busy) return { kind: "busy" };
    this.busy = true;
    try {
      return await this.act(load);
    } finally {
      this.busy = false;
    }
  }

  /** Remembers the ownership epoch of `group`'s latest report: reports up to it are from before this operation. */
  private noteActed(group: string): void {
    const epoch = this.latest.get(group)?.epoch;
    if (epoch !== undefined) this.actedAtEpoch.set(group, Math.max(epoch, this.actedAtEpoch.get(group) ?? 0));
  }

  private async act(load: GroupLoad): Promise<BalanceOutcome> {
    await this.cluster.resumeOperations();
    const table = await this.cluster.groups.keyspace(true);
    const records = await this.cluster.groups.list();
    if (!table.ok || !records.ok) return { kind: "none" };
    const mergeable = new Set(records.value.filter((record) => record.auto === true && record.state === "active").map((record) => record.name));
    const decision = decide(load, this.latest, table.value, mergeable, this.thresholds);
    if (decision.kind === "none") return decision;
    // Another metadata replica's balancer (after a leader change) may hold the same report: the
    // group's claim record in the metadata group lets exactly one act on each ownership epoch.
    if (!(await this.cluster.claimBalance(load.group, load.epoch))) return { kind: "none" };
    if (decision.kind === "split") {
      this.noteActed(decision.group);
      const split = await this.cluster.splitGroup(decision.group, { auto: true });
      this.latest.delete(decision.group);
      return { kind: "split", detail: `${decision.group}: ${decision.reason}${split.ok ? ` -> ${split.value.name}` : ""}`, ok: split.ok };
    }
    this.noteActed(decision.into);
    this.noteActed(decision.from);
    const merged = await this.cluster.mergeGroups(decision.into, decision.from);
    this.latest.delete(decision.from);
    this.latest.delete(decision.into);
    return { kind: "merge", detail: `${decision.from} into ${decision.into}: ${decision.reason}`, ok: merged.ok };
  }
}
