/**
 * The leader balancer's state and decisions (pure; the metadata group's leader hosts it and its
 * alarm drives it). Group leaders report where their requests came from (counts per location of
 * origin, pushed with the load reports); the balancer keeps them as exponentially decayed counts,
 * so a burst fades and alternating traffic averages out instead of pulling the leader back and
 * forth. A pass scores every recently reported group's replicas (leader-placement.ts) and plans
 * transfers, with a minimum time between two transfers of one group. Groups that stopped reporting
 * still hold their leaderships in the counts but are never moved: an idle group is left asleep.
 * A pass is due only when it could decide something new: a report arrived since the last one, the
 * last one moved a group, or held one back for the minimum interval; otherwise none is due at all.
 * The host saves the state (`saved`, `savedGroup`) and starts from it (`restored`), so a restart of
 * its object keeps the counts and each group's last transfer time (the hysteresis).
 */
import { chooseLeader, defaultPlacementRules, type LeaderChoice, type PerLocation, type PlacedReplica, type PlacementRules } from "./leader-placement.ts";

/** What a group's leader reports about the requests it served. */
export interface LocalityReport {
  readonly group: string;
  /** The reporting replica, which led the group when it reported. */
  readonly leader: number;
  readonly term: number;
  /** Requests served since the previous report, per location of origin. */
  readonly requests: PerLocation;
}

/** When passes run, how fast counts fade, and how often one group may move. */
export interface LeaderBalanceRules extends PlacementRules {
  /** Time between two passes while any group reports, in milliseconds. */
  readonly passIntervalMs: number;
  /** Least time between two transfers of one group, in milliseconds (a failed one counts too). */
  readonly transferIntervalMinMs: number;
  /** Request counts halve over this time, in milliseconds. */
  readonly halfLifeMs: number;
  /** A group that has not reported for this long is idle: never moved, in milliseconds. */
  readonly activeMs: number;
  /** At most this many transfers per pass. */
  readonly transfersPerPassMax: number;
}

/** Defaults: a pass every 10 s, counts halving every minute, one move per group per minute at most. */
export const defaultLeaderBalanceRules: LeaderBalanceRules = {
  ...defaultPlacementRules,
  passIntervalMs: 10_000,
  transferIntervalMinMs: 60_000,
  halfLifeMs: 60_000,
  activeMs: 120_000,
  transfersPerPassMax: 16,
};

/** A transfer a pass decided. */
export interface LeaderMove {
  readonly group: string;
  readonly from: number;
  readonly to: number;
  readonly reason: "score" | "spread";
  readonly detail: string;
}

interface GroupState {
  leader: number;
  term: number;
  /** Decayed request counts per location, as of `decayedAtMs`. */
  requests: Record<string, number>;
  decayedAtMs: number;
  reportedAtMs: number;
  transferredAtMs: number;
}

/** One group's balancer state as saved (JSON-safe: a group never transferred has `transferredAtMs` null). */
export interface SavedLeaderGroup {
  readonly leader: number;
  readonly term: number;
  readonly requests: Readonly<Record<string, number>>;
  readonly decayedAtMs: number;
  readonly reportedAtMs: number;
  readonly transferredAtMs: number | null;
}

/** The balancer's pass state as saved (JSON-safe); the groups are saved one by one. */
export interface SavedLeaderPasses {
  readonly lastPassAtMs: number | null;
  readonly reportedSincePass: boolean;
  readonly lastPassUnsettled: boolean;
}

/** The balancer: notes reports, plans passes, learns the outcome of each transfer. */
export class LeaderBalance {
  readonly rules: LeaderBalanceRules;
  private readonly groups = new Map<string, GroupState>();
  private lastPassAtMs: number | undefined;
  private reportedSincePass = false;
  /** The last pass moved a group, or held back a move for the minimum interval: the next one may decide more. */
  private lastPassUnsettled = false;

  constructor(rules: LeaderBalanceRules = defaultLeaderBalanceRules) {
    this.rules = rules;
  }

  /** A balancer that goes on from saved state (a restarted host's). */
  static restored(rules: LeaderBalanceRules, passes: SavedLeaderPasses | undefined, groups: Iterable<readonly [string, SavedLeaderGroup]>): LeaderBalance {
    const balance = new LeaderBalance(rules);
    for (const [group, saved] of groups) {
      balance.groups.set(group, { ...saved, requests: { ...saved.requests }, transferredAtMs: saved.transferredAtMs ?? Number.NEGATIVE_INFINITY });
    }
    if (passes !== undefined) {
      balance.lastPassAtMs = passes.lastPassAtMs ?? undefined;
      balance.reportedSincePass = passes.reportedSincePass;
      balance.lastPassUnsettled = passes.lastPassUnsettled;
    }
    return balance;
  }

  /** The pass state, to save. */
  savedPasses(): SavedLeaderPasses {
    return { lastPassAtMs: this.lastPassAtMs ?? null, reportedSincePass: this.reportedSincePass, lastPassUnsettled: this.lastPassUnsettled };
  }

  /** Every known group's state, to save (a group a pass forgot is absent). */
  savedGroups(): [string, SavedLeaderGroup][] {
    return [...this.groups.keys()].map((group) => [group, this.savedGroup(group)!]);
  }

  /** One group's state, to save (undefined: not known). */
  savedGroup(group: string): SavedLeaderGroup | undefined {
    const state = this.groups.get(group);
    if (state === undefined) return undefined;
    const transferredAtMs = Number.isFinite(state.transferredAtMs) ? state.transferredAtMs : null;
    return { leader: state.leader, term: state.term, requests: { ...state.requests }, decayedAtMs: state.decayedAtMs, reportedAtMs: state.reportedAtMs, transferredAtMs };
  }

  /** Takes a leader's report. A report from an older term than the one known is ignored (a deposed leader's). */
  note(report: LocalityReport, nowMs: number): void {
    const state = this.groups.get(report.group);
    if (state === undefined) {
      this.groups.set(report.group, { leader: report.leader, term: report.term, requests: { ...report.requests }, decayedAtMs: nowMs, reportedAtMs: nowMs, transferredAtMs: Number.NEGATIVE_INFINITY });
    } else {
      if (report.term < state.term) return;
      this.decay(state, nowMs);
      for (const [location, count] of Object.entries(report.requests)) state.requests[location] = (state.requests[location] ?? 0) + count;
      state.leader = report.leader;
      state.term = report.term;
      state.reportedAtMs = nowMs;
    }
    this.reportedSincePass = true;
  }

  /** When the next pass is due, or null when none is: nothing reported since the last pass, which left nothing to do. */
  nextPassAtMs(nowMs: number): number | null {
    if (!this.reportedSincePass && !this.lastPassUnsettled) return null;
    return this.lastPassAtMs === undefined ? nowMs : this.lastPassAtMs + this.rules.passIntervalMs;
  }

  /**
   * One pass: for each active group (in name order) whose last transfer is old enough, the
   * placement choice given every known group's leadership; each planned move updates the counts
   * the next group is scored against. `replicasOf` gives a group's current replicas (undefined: the
   * group is gone, and is forgotten).
   */
  plan(nowMs: number, replicasOf: (group: string) => readonly PlacedReplica[] | undefined): LeaderMove[] {
    this.lastPassAtMs = nowMs;
    this.reportedSincePass = false;
    const placed = new Map<string, { state: GroupState; replicas: readonly PlacedReplica[] }>();
    for (const [group, state] of this.groups) {
      const replicas = replicasOf(group);
      if (replicas === undefined) this.groups.delete(group);
      else placed.set(group, { state, replicas });
    }
    const leaderships: Record<string, number> = {};
    const load: Record<string, number> = {};
    for (const { state, replicas } of placed.values()) {
      this.decay(state, nowMs);
      add(leaderships, locationOf(replicas, state.leader), 1);
      add(load, locationOf(replicas, state.leader), this.rateOf(state));
    }
    const moves: LeaderMove[] = [];
    let heldBack = false;
    for (const group of [...placed.keys()].sort()) {
      const { state, replicas } = placed.get(group)!;
      if (nowMs - state.reportedAtMs >= this.rules.activeMs) continue;
      const choice = this.choose(state, replicas, leaderships, load);
      if (choice.kind !== "transfer") continue;
      if (moves.length >= this.rules.transfersPerPassMax || nowMs - state.transferredAtMs < this.rules.transferIntervalMinMs) {
        heldBack = true;
        continue;
      }
      moves.push({ group, from: state.leader, to: choice.to, reason: choice.reason, detail: choice.detail });
      const rate = this.rateOf(state);
      add(leaderships, locationOf(replicas, state.leader), -1);
      add(load, locationOf(replicas, state.leader), -rate);
      add(leaderships, locationOf(replicas, choice.to), 1);
      add(load, locationOf(replicas, choice.to), rate);
      state.transferredAtMs = nowMs;
    }
    this.lastPassUnsettled = moves.length > 0 || heldBack;
    return moves;
  }

  /** Counts a pass as done at `nowMs` without planning (the group records could not be read): the next is due an interval later. */
  postpone(nowMs: number): void {
    this.lastPassAtMs = nowMs;
  }

  /** A transfer finished (or failed) with `leader` leading at `term` (0 leader: unknown, nothing learned). */
  transferred(group: string, leader: number, term: number, nowMs: number): void {
    const state = this.groups.get(group);
    if (state === undefined) return;
    state.transferredAtMs = nowMs;
    if (leader > 0 && term >= state.term) {
      state.leader = leader;
      state.term = term;
    }
  }

  /**
   * The best leader for a group an operator asked to move with no target: the placement choice
   * without a margin, given what the balancer knows (the current leader when nothing is better).
   */
  advise(group: string, replicas: readonly PlacedReplica[], leader: number, nowMs: number, replicasOf: (group: string) => readonly PlacedReplica[] | undefined): number {
    const leaderships: Record<string, number> = {};
    const load: Record<string, number> = {};
    for (const [name, state] of this.groups) {
      if (name === group) continue;
      const placed = replicasOf(name);
      if (placed === undefined) continue;
      this.decay(state, nowMs);
      add(leaderships, locationOf(placed, state.leader), 1);
      add(load, locationOf(placed, state.leader), this.rateOf(state));
    }
    const own = this.groups.get(group);
    if (own !== undefined) this.decay(own, nowMs);
    const state: GroupState = own === undefined ? { leader, term: 0, requests: {}, decayedAtMs: nowMs, reportedAtMs: nowMs, transferredAtMs: 0 } : { ...own, leader };
    add(leaderships, locationOf(replicas, leader), 1);
    add(load, locationOf(replicas, leader), this.rateOf(state));
    const choice = this.choose(state, replicas, leaderships, load, true);
    return choice.kind === "transfer" ? choice.to : leader;
  }

  /** The known leader of `group`, if any (for tests and logs). */
  leaderOf(group: string): number | undefined {
    return this.groups.get(group)?.leader;
  }

  private choose(state: GroupState, replicas: readonly PlacedReplica[], leaderships: PerLocation, load: PerLocation, force = false): LeaderChoice {
    const input = { replicas, leader: state.leader, requests: state.requests, leaderships, load, groupLoad: this.rateOf(state) };
    return chooseLeader(input, this.rules, { force });
  }

  /** Requests per second, from the decayed count (an exponentially weighted rate). */
  private rateOf(state: GroupState): number {
    let total = 0;
    for (const count of Object.values(state.requests)) total += count;
    return (total * Math.LN2 * 1000) / this.rules.halfLifeMs;
  }

  private decay(state: GroupState, nowMs: number): void {
    const elapsedMs = nowMs - state.decayedAtMs;
    if (elapsedMs <= 0) return;
    const factor = 2 ** (-elapsedMs / this.rules.halfLifeMs);
    for (const location of Object.keys(state.requests)) {
      const count = state.requests[location]! * factor;
      if (count < 0.01) delete state.requests[location];
      else state.requests[location] = count;
    }
    state.decayedAtMs = nowMs;
  }
}

function locationOf(replicas: readonly PlacedReplica[], id: number): string | undefined {
  return replicas.find((replica) => replica.id === id)?.location;
}

function add(counts: Record<string, number>, location: string | undefined, amount: number): void {
  if (location !== undefined) counts[location] = (counts[location] ?? 0) + amount;
}
