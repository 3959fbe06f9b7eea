/**
 * Adding, removing and replacing a group's replicas, as a saga recorded in the group's metadata
 * record so that any router can finish what another one started. A new replica gets the next
 * never-used id (`replicaIdNext`; where an id names a node, on Deno, the host's `place` may pick a later one), joins as a learner, catches up from the leader (by log or
 * snapshot), and is promoted to voter through joint consensus; a removed one leaves through joint
 * consensus (the leader hands leadership away first) and is then retired for good. Every step
 * looks at the configuration the leader has, so repeating a step that already happened is a no-op.
 */
import { logEvent } from "../log.ts";
import type { ClusterResult } from "../cluster.ts";
import type { ConfChangeSingle, ConfState } from "../../raft/types.ts";
import type { BootstrapRequest } from "../../multiraft/protocol.ts";
import { Metadata, type GroupRecord, type ReplicaChange } from "./metadata.ts";
import type { ReplicaCaller } from "./replica-caller.ts";
import type { Groups } from "./groups.ts";

/** A remove may not leave a group fewer replicas than this (the fewest that survive one failure); replace keeps the count. */
export const replicasSafeMin = 3;
/** A group has at most this many replicas. */
export const replicasPerGroupMax = 9;
/** A learner this close to the leader's commit index counts as caught up and is promoted. */
const catchUpEntriesMax = 16;
/** How long one membership step (join, promote, leave) may take before the request answers unavailable. */
const stepDeadlineMs = 30_000;
/** How often the leader's configuration is looked at while waiting. */
const pollMs = 50;
/** How long a proposed membership change may take to show in the leader's configuration before it is proposed again. */
const reproposeAfterMs = 1_000;

/** What a new replica of a group needs to be placed: its current replicas, the one leaving (a replace), and the lowest id it may have. */
export interface ReplicaToPlace {
  group: string;
  /** The group's replica ids now, the leaving one included. */
  replicas: readonly number[];
  /** The replica the new one replaces (it leaves once the new one is a voter), if any. */
  leaving?: number;
  /** The lowest id the new replica may take (ids are never reused). */
  idFrom: number;
}

/** A host's choice of a new replica's id (its id names where it runs), or why the host has no room for it (tooManyReplicas) or cannot place it now (unavailable). */
export type ReplicaPlacing = { ok: true; id: number } | { ok: false; code: "tooManyReplicas" | "unavailable"; detail: string };

/** What the caller asks for. */
type Wanted = { kind: "add"; location?: string } | { kind: "remove"; id: number } | { kind: "replace"; id: number; location?: string };

/** The leader's answer to /internal/membership (replica-runtime.ts MembershipView). */
interface MembershipAnswer {
  kind: string;
  leader: number;
  conf: ConfState;
  commit: number;
  match: Record<string, number>;
  refused?: string;
}

/** What to do next to reach a configuration. */
type Step = { kind: "done" } | { kind: "wait" } | { kind: "propose"; change: ConfChangeSingle } | { kind: "transfer"; to: number };

/** Membership changes of data groups. */
export class Replicas {
  private readonly groups: Groups;
  private readonly meta: Metadata;
  private readonly caller: ReplicaCaller;
  private readonly locations: readonly string[];
  private readonly place: ((replica: ReplicaToPlace) => ReplicaPlacing) | undefined;

  /** `place` picks a new replica's id where the id decides its node (a Deno cluster); without it, the next unused id. */
  constructor(options: { groups: Groups; meta: Metadata; caller: ReplicaCaller; locations: readonly string[]; place?: (replica: ReplicaToPlace) => ReplicaPlacing }) {
    this.groups = options.groups;
    this.meta = options.meta;
    this.caller = options.caller;
    this.locations = options.locations;
    this.place = options.place;
  }

  /** Adds a replica (at `location`, else where the group has fewest); answers the record and the new id. */
  add(name: string, location?: string): Promise<ClusterResult<{ record: GroupRecord; replica: number }>> {
    return this.change(name, location === undefined ? { kind: "add" } : { kind: "add", location });
  }

  /** Removes replica `id`; refused when it would leave fewer than replicasSafeMin replicas. */
  async remove(name: string, id: number): Promise<ClusterResult<GroupRecord>> {
    const changed = await this.change(name, { kind: "remove", id });
    return changed.ok ? { ok: true, value: changed.value.record } : changed;
  }

  /** Adds a new replica, waits until it is a caught-up voter, then removes `id`; answers the record and the new id. */
  replace(name: string, id: number, location?: string): Promise<ClusterResult<{ record: GroupRecord; replica: number }>> {
    return this.change(name, location === undefined ? { kind: "replace", id } : { kind: "replace", id, location });
  }

  /** Records the change in the group's record (compare-and-set), then carries it out. A change left by another router is finished first. */
  private async change(name: string, wanted: Wanted): Promise<ClusterResult<{ record: GroupRecord; replica: number }>> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.meta.read<GroupRecord>(`groups/${name}`);
      if (!current.ok) return current;
      const record = current.value?.value;
      if (current.value === undefined || record === undefined || record.state === "removed") return { ok: false, error: { code: "groupNotFound" } };
      if (record.state !== "active") return { ok: false, error: { code: "unavailable", detail: `group ${name} is ${record.state}` } };
      const pending = record.replicaChange;
      if (pending !== undefined) {
        const finished = await this.finish(record);
        if (!finished.ok) return finished;
        if (sameChange(record, wanted)) return { ok: true, value: { record: finished.value, replica: pending.add ?? pending.remove! } };
        continue;
      }
      const planned = this.plan(record, wanted);
      if (!planned.ok) return planned;
      const written = await this.meta.apply([Metadata.put(`groups/${name}`, planned.value.record, current.value.version)]);
      if (!written.ok) {
        if (written.error.code === "conditionFailed") continue;
        return written;
      }
      logEvent("info", "replicaChangeStarted", { group: name, ...planned.value.record.replicaChange });
      const finished = await this.finish(planned.value.record);
      return finished.ok ? { ok: true, value: { record: finished.value, replica: planned.value.replica } } : finished;
    }
    return { ok: false, error: { code: "unavailable", detail: `the record of group ${name} kept changing; try again` } };
  }

  /** The record with the change written into it, or why the change is refused. */
  private plan(record: GroupRecord, wanted: Wanted): ClusterResult<{ record: GroupRecord; replica: number }> {
    const ids = record.replicas.map((replica) => replica.id);
    if (wanted.kind !== "add" && !ids.includes(wanted.id)) {
      return { ok: false, error: { code: "replicaNotFound", detail: `group ${record.name} has no replica ${wanted.id} (it has ${ids.join(", ")})` } };
    }
    if (wanted.kind === "remove") {
      if (ids.length - 1 < replicasSafeMin) {
        const detail = `removing replica ${wanted.id} would leave group ${record.name} ${ids.length - 1} replicas, fewer than ${replicasSafeMin}; replace it instead`;
        return { ok: false, error: { code: "tooFewReplicas", detail } };
      }
      return { ok: true, value: { record: { ...record, replicaChange: { remove: wanted.id } }, replica: wanted.id } };
    }
    if (wanted.kind === "add" && ids.length + 1 > replicasPerGroupMax) {
      return { ok: false, error: { code: "tooManyReplicas", detail: `group ${record.name} has ${ids.length} replicas, the most a group may have is ${replicasPerGroupMax}` } };
    }
    const idFrom = record.replicaIdNext ?? Math.max(0, ...ids) + 1;
    const placed = this.place?.({ group: record.name, replicas: ids, ...(wanted.kind === "replace" ? { leaving: wanted.id } : {}), idFrom }) ?? { ok: true, id: idFrom };
    if (!placed.ok) return { ok: false, error: { code: placed.code, detail: placed.detail } };
    const id = placed.id;
    const staying = wanted.kind === "replace" ? record.replicas.filter((replica) => replica.id !== wanted.id) : record.replicas;
    const location = wanted.location ?? this.leastUsedLocation(staying);
    const replicaChange: ReplicaChange = wanted.kind === "replace" ? { add: id, remove: wanted.id } : { add: id };
    const replicas = [...record.replicas, { id, location }];
    return { ok: true, value: { record: { ...record, replicas, replicaIdNext: id + 1, replicaChange }, replica: id } };
  }

  /** Carries out the change recorded in `record` (every step idempotent), then records the new membership. */
  private async finish(record: GroupRecord): Promise<ClusterResult<GroupRecord>> {
    const change = record.replicaChange;
    if (change === undefined) return { ok: true, value: record };
    this.groups.invalidate();
    if (change.add !== undefined) {
      const joined = await this.join(record, change.add);
      if (!joined.ok) return joined;
      const voter = await this.converge(record, (view) => towardsVoter(view, change.add!));
      if (!voter.ok) return voter;
    }
    if (change.remove !== undefined) {
      const removed = await this.converge(record, (view) => towardsRemoved(view, change.remove!));
      if (!removed.ok) return removed;
      const retired = await this.caller.direct<{ ok?: boolean }>(record, change.remove, "/internal/retire", {});
      if (retired?.ok !== true) logEvent("warn", "replicaNotRetired", { group: record.name, replica: change.remove, detail: "unreachable; it is out of the group's configuration all the same" });
    }
    return this.recordFinished(record.name, change);
  }

  /** Writes the record without the change: the removed replica gone from its replicas. */
  private async recordFinished(name: string, change: ReplicaChange): Promise<ClusterResult<GroupRecord>> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.meta.read<GroupRecord>(`groups/${name}`);
      if (!current.ok) return current;
      if (current.value === undefined) return { ok: false, error: { code: "groupNotFound" } };
      const record = current.value.value;
      if (record.replicaChange?.add !== change.add || record.replicaChange?.remove !== change.remove) return { ok: true, value: record }; // another router finished it
      const { replicaChange: _finished, ...rest } = record;
      const next: GroupRecord = { ...rest, replicas: record.replicas.filter((replica) => replica.id !== change.remove) };
      const written = await this.meta.apply([Metadata.put(`groups/${name}`, next, current.value.version)]);
      if (written.ok) {
        this.groups.invalidate();
        logEvent("info", "replicaChangeFinished", { group: name, ...change, replicas: next.replicas.map((replica) => replica.id) });
        return { ok: true, value: next };
      }
      if (written.error.code !== "conditionFailed") return written;
    }
    return { ok: false, error: { code: "unavailable", detail: `the record of group ${name} kept changing; try again` } };
  }

  /** Creates the new replica's object (at its locationHint) with its identity and an empty log. */
  private async join(record: GroupRecord, id: number): Promise<ClusterResult<true>> {
    const locations = Object.fromEntries(record.replicas.map((replica) => [String(replica.id), replica.location]));
    const voters = record.replicas.filter((replica) => replica.id !== id).map((replica) => replica.id);
    const request: BootstrapRequest = { group: record.name, replica: id, voters, locations, owns: record.owns, epoch: record.epoch, join: true };
    const answer = await this.caller.direct<{ ok?: boolean; kind?: string }>(record, id, "/internal/bootstrap", request);
    if (answer?.ok === true) return { ok: true, value: true };
    return { ok: false, error: { code: "unavailable", detail: `replica ${id} of group ${record.name} could not be created (${answer?.kind ?? "unreachable"}); retry to finish the change` } };
  }

  /** Asks the leader for its configuration and takes the next step towards the goal until it is reached. */
  private async converge(record: GroupRecord, next: (view: MembershipAnswer) => Step): Promise<ClusterResult<true>> {
    const deadline = Date.now() + stepDeadlineMs;
    let body: { changes?: ConfChangeSingle[] } = {};
    let lastProblem = "no leader answered";
    let proposed: { change: string; atMs: number } | undefined;
    while (Date.now() < deadline) {
      const outcome = await this.caller.call<MembershipAnswer>(record, "/internal/membership", body, false);
      body = {};
      if (outcome.kind !== "answer" || outcome.answer.kind !== "ok") {
        lastProblem = outcome.kind === "answer" ? `the leader answered ${outcome.answer.kind}` : outcome.kind === "staleEpoch" ? "stale epoch" : outcome.detail;
        await sleep(pollMs);
        continue;
      }
      const view = outcome.answer;
      const step = next(view);
      if (step.kind === "done") return { ok: true, value: true };
      if (step.kind === "propose") {
        // Proposed at once, then looked at every pollMs until it takes effect; proposed again after
        // a refusal, or after reproposeAfterMs (a leader change may have lost it). Proposing again
        // at once would spin: it is refused while the first is pending, and a leader in this process
        // (a Deno node's) answers without the event loop turning, so the entry would never commit.
        const change = JSON.stringify(step.change);
        if (proposed?.change !== change || Date.now() - proposed.atMs >= reproposeAfterMs) {
          proposed = { change, atMs: Date.now() };
          body = { changes: [step.change] };
          continue;
        }
        // Refused (a new leader has yet to apply its own pending change): again after the sleep below.
        if (view.refused !== undefined) proposed = undefined;
      }
      if (step.kind === "transfer") await this.caller.direct(record, view.leader, "/internal/transfer", { to: step.to });
      lastProblem = view.refused === undefined ? `waiting (${describe(view.conf)})` : `the leader refused the change: ${view.refused}`;
      await sleep(pollMs);
    }
    return { ok: false, error: { code: "unavailable", detail: `group ${record.name}: the membership change did not finish in time (${lastProblem}); retry to finish it` } };
  }

  /** Of the configured locations, the one `replicas` use least (the first such in configuration order). */
  private leastUsedLocation(replicas: readonly { location: string }[]): string {
    const pool = this.locations.length > 0 ? this.locations : ["wnam"];
    let best = pool[0]!;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const location of pool) {
      const count = replicas.filter((replica) => replica.location === location).length;
      if (count < bestCount) [best, bestCount] = [location, count];
    }
    return best;
  }
}

/**
 * Whether `wanted` is the change `record` has recorded: the request sent again after its answer was
 * lost or was a 503, which finishes that change and answers its replica rather than starting
 * another. An add is the recorded add when it names no location or the added replica's.
 */
function sameChange(record: GroupRecord, wanted: Wanted): boolean {
  const pending = record.replicaChange;
  if (pending === undefined) return false;
  if (wanted.kind === "add") return pending.remove === undefined && (wanted.location === undefined || record.replicas.find((replica) => replica.id === pending.add)?.location === wanted.location);
  return pending.remove === wanted.id && (wanted.kind === "replace") === (pending.add !== undefined);
}

/** The next step to make `id` a voter: add it as a learner, let it catch up, promote it (joint consensus). */
export function towardsVoter(view: MembershipAnswer, id: number): Step {
  const conf = view.conf;
  if (conf.votersOutgoing.length > 0) return { kind: "wait" }; // a joint configuration leaves by itself
  if (conf.voters.includes(id)) return { kind: "done" };
  if (!conf.learners.includes(id)) return { kind: "propose", change: { type: "addLearner", node: id } };
  const caughtUp = (view.match[String(id)] ?? 0) + catchUpEntriesMax >= view.commit;
  return caughtUp ? { kind: "propose", change: { type: "addVoter", node: id } } : { kind: "wait" };
}

/** The next step to take `id` out of the configuration; a leader being removed hands leadership to the most caught-up other voter first. */
export function towardsRemoved(view: MembershipAnswer, id: number): Step {
  const conf = view.conf;
  if (conf.votersOutgoing.length > 0) return { kind: "wait" };
  if (!conf.voters.includes(id) && !conf.learners.includes(id)) return { kind: "done" };
  if (view.leader === id) {
    const others = conf.voters.filter((voter) => voter !== id);
    const best = others.sort((a, b) => (view.match[String(b)] ?? 0) - (view.match[String(a)] ?? 0))[0];
    if (best !== undefined) return { kind: "transfer", to: best };
  }
  return { kind: "propose", change: { type: "removeVoter", node: id } };
}

function describe(conf: ConfState): string {
  const joint = conf.votersOutgoing.length > 0 ? `, joint with ${conf.votersOutgoing.join(",")}` : "";
  return `voters ${conf.voters.join(",")}${conf.learners.length > 0 ? `, learners ${conf.learners.join(",")}` : ""}${joint}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
