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

  constructor(cluster: ClusterClient, thresholds: BalanceThresholds) {
    this.cluster = cluster;
    this.thresholds = thresholds;
  }

  /** Notes `load` and acts on it, unless an operation is already running (the next report will do). */
  async consider(load: GroupLoad): Promise<BalanceOutcome> {
    this.latest.set(load.group, load);
    if (this.busy) return { kind: "busy" };
    this.busy = true;
    try {
      return await this.act(load);
    } finally {
      this.busy = false;
    }
  }

  private async act(load: GroupLoad): Promise<BalanceOutcome> {
    await this.cluster.resumeOperations();
    const table = await this.cluster.groups.keyspace(true);
    const records = await this.cluster.groups.list();
    if (!table.ok || !records.ok) return { kind: "none" };
    const mergeable = new Set(records.value.filter((record) => record.auto === true && record.state === "active").map((record) => record.name));
    const decision = decide(load, this.latest, table.value, mergeable, this.thresholds);
    if (decision.kind === "none") return decision;
    if (decision.kind === "split") {
      const split = await this.cluster.splitGroup(decision.group, { auto: true });
      this.latest.delete(decision.group);
      return { kind: "split", detail: `${decision.group}: ${decision.reason}${split.ok ? ` -> ${split.value.name}` : ""}`, ok: split.ok };
    }
    const merged = await this.cluster.mergeGroups(decision.into, decision.from);
    this.latest.delete(decision.from);
    return { kind: "merge", detail: `${decision.from} into ${decision.into}: ${decision.reason}`, ok: merged.ok };
  }
}
