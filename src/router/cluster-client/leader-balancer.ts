/**
 * The metadata group's leader balancer, host side: takes the locality reports of data group
 * leaders into the pure LeaderBalance (multiraft/leader-balance.ts), and when its host's alarm
 * says a pass is due, plans one with each group's current replicas (from the group records) and
 * carries out its transfers one after another through the same path as the admin route
 * (POST /v1/groups/{name}/transfer-leader). It also advises the route on the best leader when an
 * operator names none. It runs at the metadata group's leader only, and never for a client request.
 * With a store, its state (counts, last transfer times, pass state) is saved as it changes and
 * read back when it is made, so a restart of its host object keeps the hysteresis.
 */
import { LeaderBalance, type LeaderBalanceRules, type LeaderMove, type LocalityReport, type SavedLeaderGroup, type SavedLeaderPasses } from "../../multiraft/leader-balance.ts";
import type { PlacedReplica } from "../../multiraft/leader-placement.ts";
import type { ClusterClient } from "./cluster-client.ts";

/** What one transfer of a pass came to (for logs and tests). */
export interface LeaderMoveOutcome extends LeaderMove {
  readonly ok: boolean;
  /** The leader after the attempt (0: unknown). */
  readonly leader: number;
  readonly error?: string;
}

/** Where a host keeps the balancer's state (its object's storage). */
export interface LeaderBalanceStore {
  /** The saved pass state and groups (none saved: undefined and empty). */
  load(): { passes: SavedLeaderPasses | undefined; groups: [string, SavedLeaderGroup][] };
  /** Saves the pass state and one group's state. */
  saveGroup(passes: SavedLeaderPasses, group: string, state: SavedLeaderGroup): void;
  /** Saves the pass state and every group's state, forgetting groups not among them. */
  saveAll(passes: SavedLeaderPasses, groups: [string, SavedLeaderGroup][]): void;
}

/** Runs leader balancing passes. */
export class LeaderBalancer {
  readonly balance: LeaderBalance;
  private readonly cluster: ClusterClient;
  private readonly store: LeaderBalanceStore | undefined;
  private running = false;

  constructor(cluster: ClusterClient, rules: LeaderBalanceRules, store?: LeaderBalanceStore) {
    this.cluster = cluster;
    this.store = store;
    const saved = store?.load();
    this.balance = saved === undefined ? new LeaderBalance(rules) : LeaderBalance.restored(rules, saved.passes, saved.groups);
  }

  /** Takes a leader's locality report. */
  note(report: LocalityReport, nowMs: number): void {
    this.balance.note(report, nowMs);
    const state = this.balance.savedGroup(report.group);
    if (state !== undefined) this.store?.saveGroup(this.balance.savedPasses(), report.group, state);
  }

  /** When the next pass is due (null: none; an idle cluster needs none), or null while one runs. */
  nextPassAtMs(nowMs: number): number | null {
    return this.running ? null : this.balance.nextPassAtMs(nowMs);
  }

  /** Runs a pass when one is due and none is running; answers what each planned transfer came to. */
  async pass(nowMs: () => number): Promise<LeaderMoveOutcome[]> {
    const due = this.balance.nextPassAtMs(nowMs());
    if (this.running || due === null || due > nowMs()) return [];
    this.running = true;
    try {
      const replicas = await this.replicasByGroup();
      if (replicas === undefined) {
        this.balance.postpone(nowMs());
        this.save();
        return [];
      }
      const outcomes: LeaderMoveOutcome[] = [];
      for (const move of this.balance.plan(nowMs(), (group) => replicas.get(group))) {
        const result = await this.cluster.transferLeader(move.group, move.to);
        if (result.ok) {
          this.balance.transferred(move.group, result.value.leader, result.value.term, nowMs());
          outcomes.push({ ...move, ok: true, leader: result.value.leader });
        } else {
          const leader = result.error.code === "transferFailed" ? result.error.leader : 0;
          this.balance.transferred(move.group, leader, 0, nowMs());
          outcomes.push({ ...move, ok: false, leader, error: result.error.code });
        }
      }
      return outcomes;
    } finally {
      this.running = false;
      this.save();
    }
  }

  /** Saves the whole state (after a pass: it decayed every count and may have moved groups or forgotten some). */
  private save(): void {
    this.store?.saveAll(this.balance.savedPasses(), this.balance.savedGroups());
  }

  /** The best leader of a group an operator asked to move without naming a replica. */
  async advise(group: string, replicas: readonly PlacedReplica[], leader: number, nowMs: number): Promise<number> {
    const known = await this.replicasByGroup();
    return this.balance.advise(group, replicas, leader, nowMs, (name) => known?.get(name));
  }

  /** Each active group's replicas, from the metadata group's records; undefined when they cannot be read now. */
  private async replicasByGroup(): Promise<Map<string, readonly PlacedReplica[]> | undefined> {
    const records = await this.cluster.groups.list();
    if (!records.ok) return undefined;
    return new Map(records.value.filter((record) => record.state === "active").map((record) => [record.name, record.replicas]));
  }
}
