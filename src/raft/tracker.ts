/**
 * The leader's tracker: the configuration in force, a Progress per member, and the votes of an
 * election. Quorum decisions go through quorum.ts so joint configurations are handled once.
 */
import { jointCommitted, jointVoteResult, type VoteResult } from "./quorum.ts";
import { Progress } from "./progress.ts";
import { members } from "./confchange.ts";
import type { ConfState, Index, NodeId } from "./types.ts";

/** Configuration, per-member progress and election votes. */
export class ProgressTracker {
  conf: ConfState;
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private readonly inflightsMax: number;

  constructor(conf: ConfState, inflightsMax: number) {
    this.conf = conf;
    this.inflightsMax = inflightsMax;
  }

  /** Installs `conf`; new members start probing at `lastIndex + 1`, removed ones are forgotten. */
  setConf(conf: ConfState, lastIndex: Index): void {
    this.conf = conf;
    const all = new Set(members(conf));
    for (const id of [...this.progress.keys()]) if (!all.has(id)) this.progress.delete(id);
    const learners = new Set([...conf.learners, ...conf.learnersNext]);
    for (const id of all) {
      let progress = this.progress.get(id);
      if (progress === undefined) {
        progress = new Progress(lastIndex + 1, this.inflightsMax, false);
        progress.recentActive = true;
        this.progress.set(id, progress);
      }
      progress.isLearner = learners.has(id) && !this.isVoter(id);
    }
  }

  /** Resets every progress for a new leader whose last index is `lastIndex`. */
  resetAll(lastIndex: Index, self: NodeId): void {
    for (const [id, old] of this.progress) {
      const progress = new Progress(lastIndex + 1, this.inflightsMax, old.isLearner);
      progress.recentActive = true;
      if (id === self) progress.match = lastIndex;
      this.progress.set(id, progress);
    }
  }

  /** Whether `id` votes in either half of the configuration. */
  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id) || this.conf.votersOutgoing.includes(id);
  }

  /** Whether `id` is the only voter (a one-replica group commits alone). */
  isSingleton(id: NodeId): boolean {
    return this.conf.votersOutgoing.length === 0 && this.conf.voters.length === 1 && this.conf.voters[0] === id;
  }

  /** Highest index replicated on a quorum of both halves. */
  committed(): Index {
    return jointCommitted(this.conf.voters, this.conf.votersOutgoing, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Records a vote and returns the election's outcome so far. */
  recordVote(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return jointVoteResult(this.conf.voters, this.conf.votersOutgoing, this.votes);
  }

  /** Whether the members heard from recently (self included) form a quorum: CheckQuorum. */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, progress] of this.progress) active.set(id, id === self || progress.recentActive);
    return jointVoteResult(this.conf.voters, this.conf.votersOutgoing, active) === "won";
  }

  /** Whether the voters in `acks` (self included) form a quorum: ReadIndex confirmation. */
  quorumOf(acks: ReadonlySet<NodeId>): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    return jointVoteResult(this.conf.voters, this.conf.votersOutgoing, votes) === "won";
  }
}
