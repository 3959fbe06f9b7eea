/**
 * Leadership transfer from the router's side (POST /v1/groups/{name}/transfer-leader): find the
 * group's leader, pick the target (the one asked for, or the best by leader placement), ask the
 * leader to hand over (the engine catches the target up, then sends it TimeoutNow; thesis 3.10),
 * and watch the replicas until the target leads, another replica does, or time runs out. The
 * watch reads /internal/leadership, which neither wakes a replica nor starts an election.
 */
import { chooseLeader, type PerLocation } from "../../multiraft/leader-placement.ts";
import type { LeadershipReply } from "../../multiraft/protocol.ts";
import type { ClusterResult, LeaderTransfer } from "../cluster.ts";
import type { Groups } from "./groups.ts";
import type { GroupRecord } from "./metadata.ts";
import type { ReplicaCaller } from "./replica-caller.ts";
import { groupHealth } from "./health.ts";

/** How long a transfer may take before it is reported as timed out, in milliseconds. */
export const transferWaitMs = 8_000;
/** How often the replicas are asked who leads while a transfer runs, in milliseconds. */
const watchIntervalMs = 40;
/** How many times a transfer the engine abandoned (the target lagged too long) is asked again. */
const transferAttemptsMax = 3;

/** Advice on the best leader of a group from whoever holds the cluster's locality data; undefined when none is available. */
export type LeaderAdvice = (record: GroupRecord, leader: number) => Promise<number | undefined>;

/** Runs leadership transfers. */
export class Leadership {
  private readonly groups: Groups;
  private readonly caller: ReplicaCaller;
  private readonly advice: LeaderAdvice | undefined;

  constructor(options: { groups: Groups; caller: ReplicaCaller; advice?: LeaderAdvice }) {
    this.groups = options.groups;
    this.caller = options.caller;
    this.advice = options.advice;
  }

  /** Hands `name`'s leadership to replica `to` (default: the best candidate) and answers when it finished or failed. */
  async transfer(name: string, to?: number): Promise<ClusterResult<LeaderTransfer>> {
    const record = await this.groups.get(name);
    if (!record.ok) return record;
    if (record.value.state !== "active") return { ok: false, error: { code: "unavailable", detail: `group ${name} is ${record.value.state}` } };
    const group = record.value;
    const ids = group.replicas.map((replica) => replica.id);
    if (to !== undefined && !ids.includes(to)) {
      return { ok: false, error: { code: "replicaNotFound", detail: `group ${name} has no replica ${to}; its replicas are ${ids.join(", ")}` } };
    }
    const deadline = Date.now() + transferWaitMs;
    const current = await this.leaderOf(group, deadline);
    if (current === undefined) return { ok: false, error: { code: "transferTimedOut", detail: `group ${name} has no leader to hand over from` } };
    const target = to ?? (await this.best(group, current.leader));
    if (target === current.leader) return { ok: true, value: { group: name, previous: current.leader, leader: current.leader, term: current.term, transferred: false } };
    return this.handOver(group, current, target, deadline);
  }

  /** Asks the leader to hand over to `target` and watches until the target leads, another does, or the deadline. */
  private async handOver(group: GroupRecord, current: { leader: number; term: number }, target: number, deadline: number): Promise<ClusterResult<LeaderTransfer>> {
    let from = current.leader;
    for (let attempt = 0; attempt < transferAttemptsMax && Date.now() < deadline; attempt++) {
      await this.caller.direct(group, from, "/internal/transfer", { to: target });
      for (;;) {
        await sleep(watchIntervalMs);
        const seen = await this.watch(group);
        const targetView = seen.get(target);
        if (targetView?.role === "leader") {
          this.caller.noteLeader(group.name, target);
          return { ok: true, value: { group: group.name, previous: current.leader, leader: target, term: targetView.term, transferred: true } };
        }
        const other = [...seen.entries()].find(([id, view]) => id !== target && view.role === "leader" && view.term > current.term);
        if (other !== undefined) {
          this.caller.noteLeader(group.name, other[0]);
          const detail = `replica ${other[0]} took over at term ${other[1].term} instead of replica ${target}`;
          return { ok: false, error: { code: "transferFailed", detail, leader: other[0] } };
        }
        const old = seen.get(from);
        if (old?.role === "leader" && old.transferee === 0 && (targetView?.term ?? 0) <= old.term) break; // the engine abandoned it: ask again
        if (old !== undefined && old.role !== "leader" && old.leader > 0 && old.leader !== target && old.term > current.term) from = old.leader;
        if (Date.now() >= deadline) {
          return { ok: false, error: { code: "transferTimedOut", detail: `replica ${target} did not take over group ${group.name} within ${transferWaitMs} ms` } };
        }
      }
    }
    const leader = (await this.leaderOf(group, Date.now() + 1_000))?.leader ?? 0;
    const detail = `the leader (replica ${leader}) kept its leadership: replica ${target} could not catch up or be elected in ${transferAttemptsMax} attempts`;
    return { ok: false, error: { code: "transferFailed", detail, leader } };
  }

  /** The leader with the highest term any replica reports; when none is known, a status check wakes the group once. */
  private async leaderOf(group: GroupRecord, deadline: number): Promise<{ leader: number; term: number } | undefined> {
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const seen = await this.watch(group);
      const leading = [...seen.entries()].filter(([, view]) => view.role === "leader").sort((a, b) => b[1].term - a[1].term)[0];
      if (leading !== undefined) return { leader: leading[0], term: leading[1].term };
      if (attempt === 0) await groupHealth(this.caller, group); // a quiet group woken from hibernation elects a leader
      await sleep(100);
    }
    return undefined;
  }

  /** What each reachable replica says about leadership now. */
  private async watch(group: GroupRecord): Promise<Map<number, LeadershipReply>> {
    const replies = await Promise.all(group.replicas.map((replica) => this.caller.direct<LeadershipReply>(group, replica.id, "/internal/leadership", undefined)));
    const seen = new Map<number, LeadershipReply>();
    group.replicas.forEach((replica, i) => {
      const reply = replies[i];
      if (reply?.kind === "ok") seen.set(replica.id, reply);
    });
    return seen;
  }

  /**
   * The best leader for `group`: the advice of whoever holds the locality data (the metadata
   * group's leader balancer), or else the replica that makes this isolate's known leaderships most
   * even (the current leader when no move makes them more even).
   */
  private async best(group: GroupRecord, leader: number): Promise<number> {
    const advised = await this.advice?.(group, leader).catch(() => undefined);
    if (advised !== undefined && group.replicas.some((replica) => replica.id === advised)) return advised;
    const records = await this.groups.list();
    const leaderships: Record<string, number> = {};
    for (const record of records.ok ? records.value : []) {
      const known = record.name === group.name ? leader : this.caller.leaderOf(record.name);
      const location = record.replicas.find((replica) => replica.id === known)?.location;
      if (location !== undefined) leaderships[location] = (leaderships[location] ?? 0) + 1;
    }
    const choice = chooseLeader({ replicas: group.replicas, leader, requests: {}, leaderships: leaderships as PerLocation, load: {}, groupLoad: 0 }, undefined, { force: true });
    return choice.kind === "transfer" ? choice.to : leader;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
