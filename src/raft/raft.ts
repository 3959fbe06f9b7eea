/**
 * The Raft state machine of one replica: roles, terms, elections and message dispatch.
 * Leader behaviour lives in raft-leader.ts and follower/candidate behaviour in raft-follower.ts;
 * a role is a pair of functions (step, tick) installed by become* (after etcd-io/raft).
 */
import { assert } from "../shared/assert.ts";
import type { Rng } from "../shared/rng.ts";
import { appendBytesMax, inflightMessagesMax, uncommittedBytesMax } from "../shared/limits.ts";
import { RaftLog } from "./raft-log.ts";
import type { Storage } from "./storage.ts";
import { ProgressTracker } from "./tracker.ts";
import { ReadOnlyQueue } from "./read-only.ts";
import { isVoter } from "./confchange.ts";
import { noNode, type Message, type MessageType, type NodeId, type ReadState, type Role, type Term } from "./types.ts";
import { stepLeader, tickLeader, becomeLeaderState, resumeQuiet } from "./raft-leader.ts";
import { stepFollower, stepCandidate } from "./raft-follower.ts";
import type { RaftConfig } from "./raft-config.ts";

export type { RaftConfig } from "./raft-config.ts";

/** A message with every field at its zero value except the ones given. */
export function message(type: MessageType, fields: Partial<Message>): Message {
  return {
    type,
    from: 0,
    to: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: "",
    snapshot: null,
    quiesce: false,
    transfer: false,
    lease: false,
    ...fields,
  };
}

/** Snapshot being received in chunks by a follower. */
export interface IncomingSnapshot {
  index: number;
  term: number;
  received: number;
  chunks: Uint8Array[];
}

/** One replica's Raft state. Fields are shared with the role modules; hosts use RawNode instead. */
export class Raft {
  readonly id: NodeId;
  term: Term = 0;
  vote: NodeId = noNode;
  leader: NodeId = noNode;
  role: Role = "follower";
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Outgoing messages not yet handed to the host. */
  messages: Message[] = [];
  readStates: ReadState[] = [];
  readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadRequests: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;
  /** Ticks since this replica started; drives lease arithmetic on the leader. */
  ticksTotal = 0;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly quiesceEnabled: boolean;
  readonly leaseReads: boolean;
  readonly leaseSafetyTicks: number;
  readonly appendBytesMax: number;
  readonly uncommittedBytesMax: number;
  /** Idle: no heartbeats (leader) and no election timer (follower) until something wakes it. */
  quiesced = false;
  leadTransferee: NodeId = noNode;
  /** The last election this replica ran was a leadership transfer's (TimeoutNow): a leader it made was handed the role on purpose. */
  campaignedForTransfer = false;
  /**
   * Leader: a transfer was started in this term. A TimeoutNow may arrive arbitrarily late, after
   * the transfer was abandoned, and the vote it triggers bypasses the followers' lease; so after the
   * first transfer a leader serves no lease reads for the rest of its term (ReadIndex instead).
   */
  transferStarted = false;
  /** Index of the last conf change appended by this leader; no new one until it is applied. */
  pendingConfIndex = 0;
  /** Bytes proposed by this leader and not yet applied (proposal backpressure). */
  uncommittedBytes = 0;
  /** Leader: per voter, the leader tick at which the newest heartbeat it answered was sent. */
  readonly heartbeatAckTicks = new Map<NodeId, number>();
  /** Leader: entries appended since the last flush, or commit advanced: followers need appends. */
  appendsPending = false;
  /** Leader: a heartbeat round must go out at the next flush (after waking). */
  heartbeatPending = false;
  /** Leader: the context of the ReadIndex heartbeat round in flight, "" when none (one round at a time). */
  readRoundContext = "";
  incomingSnapshot: IncomingSnapshot | null = null;
  /** Lost its durable state and has not caught up with what was committed since (RaftConfig.recovering). */
  recovering: boolean;
  private readonly rng: Rng;
  step: (raft: Raft, m: Message) => void = stepFollower;
  tick: (raft: Raft) => void = tickElection;

  constructor(config: RaftConfig, storage: Storage) {
    assert(config.id > 0, "replica ids are positive");
    assert(config.heartbeatTicks > 0 && config.heartbeatTicks < config.electionTicks, "heartbeat below election timeout");
    this.id = config.id;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.rng = config.rng;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.quiesceEnabled = config.quiesce ?? true;
    this.leaseReads = (config.leaseReads ?? false) && this.checkQuorum;
    this.leaseSafetyTicks = config.leaseSafetyTicks ?? 2;
    this.appendBytesMax = config.appendBytesMax ?? appendBytesMax;
    this.uncommittedBytesMax = config.uncommittedBytesMax ?? uncommittedBytesMax;
    this.recovering = config.recovering ?? false;
    const { hardState, conf } = storage.initialState();
    this.log = new RaftLog(storage, config.applied ?? 0);
    this.tracker = new ProgressTracker(conf, config.inflightMessagesMax ?? inflightMessagesMax);
    this.tracker.setConf(conf, this.log.lastIndex());
    this.term = hardState.term;
    this.vote = hardState.vote;
    becomeFollower(this, this.term, noNode);
    const quiet = config.resumeQuiet;
    if (quiet !== undefined && quiet.term === this.term && quiet.term > 0 && quiet.leader !== noNode) resumeQuiet(this, quiet.leader);
  }

  /** Queues a message to `to` unchanged (a forwarded message keeps its sender). */
  forward(to: NodeId, m: Message): void {
    this.messages.push({ ...m, to });
  }

  /** Queues a message to `to`, stamped with our id and (for non-local kinds) our term. */
  send(to: NodeId, m: Message): void {
    m.from = this.id;
    m.to = to;
    if (m.term === 0 && m.type !== "prop" && m.type !== "readIndex") m.term = this.term;
    this.messages.push(m);
  }

  /** Whether this replica may campaign: a voter with no snapshot waiting to be applied, not recovering a lost log. */
  promotable(): boolean {
    return isVoter(this.tracker.conf, this.id) && this.log.unstableSnapshot === null && !this.recovering;
  }

  /** Draws a fresh election timeout in [electionTicks, 2 * electionTicks). */
  resetRandomizedElectionTicks(): void {
    this.randomizedElectionTicks = this.electionTicks + this.rng.int(this.electionTicks);
  }

  /** Whether a leader was heard from within the election timeout (votes are then refused). */
  inLease(): boolean {
    if (!this.checkQuorum) return false;
    // With lease reads, a replica that just restarted may have acknowledged a leader's lease
    // before the crash: it honours that for one election timeout.
    if (this.leaseReads && this.ticksTotal < this.electionTicks) return true;
    return this.leader !== noNode && this.electionElapsed < this.electionTicks;
  }

  /** Leaves quiescence: restart timers so that a dead leader is noticed (follower) or heartbeats resume. */
  wake(notifyLeader: boolean): void {
    if (!this.quiesced) return;
    this.quiesced = false;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    if (this.role === "leader") {
      for (const progress of this.tracker.progress.values()) progress.recentActive = true;
      this.heartbeatAckTicks.clear(); // time stood still while quiet: the lease must be re-earned
      this.heartbeatPending = true;
    } else if (this.leader !== noNode && notifyLeader) {
      this.send(this.leader, message("wake", {}));
    }
  }
}

/** Clears role state for a new term (or a new role in the same term). */
function reset(raft: Raft, term: Term): void {
  if (raft.term !== term) {
    raft.term = term;
    raft.vote = noNode;
  }
  raft.leader = noNode;
  raft.electionElapsed = 0;
  raft.heartbeatElapsed = 0;
  raft.resetRandomizedElectionTicks();
  raft.leadTransferee = noNode;
  raft.transferStarted = false;
  raft.tracker.votes.clear();
  raft.tracker.resetAll(raft.log.lastIndex(), raft.id);
  raft.pendingConfIndex = 0;
  raft.uncommittedBytes = 0;
  raft.readOnly.clear();
  raft.pendingReadRequests = [];
  raft.heartbeatAckTicks.clear();
  raft.quiesced = false;
  raft.appendsPending = false;
  raft.heartbeatPending = false;
  raft.readRoundContext = "";
}

/** Becomes a follower of `leader` (or of nobody yet) in `term`. */
export function becomeFollower(raft: Raft, term: Term, leader: NodeId): void {
  reset(raft, term);
  raft.leader = leader;
  raft.role = "follower";
  raft.step = stepFollower;
  raft.tick = tickElection;
}

function becomePreCandidate(raft: Raft): void {
  assert(raft.role !== "leader", "a leader does not pre-campaign");
  // A pre-candidate keeps its term and vote: pre-votes change nothing durable (thesis 9.6).
  raft.tracker.votes.clear();
  raft.leader = noNode;
  raft.role = "preCandidate";
  raft.step = stepCandidate;
  raft.tick = tickElection;
}

function becomeCandidate(raft: Raft): void {
  assert(raft.role !== "leader", "a leader does not campaign");
  reset(raft, raft.term + 1);
  raft.vote = raft.id;
  raft.role = "candidate";
  raft.step = stepCandidate;
  raft.tick = tickElection;
}

/** Becomes leader of the current term and appends the no-op entry that commits the previous terms. */
export function becomeLeader(raft: Raft): void {
  assert(raft.role === "candidate", "only a candidate becomes leader");
  reset(raft, raft.term);
  raft.leader = raft.id;
  raft.role = "leader";
  raft.step = stepLeader;
  raft.tick = tickLeader;
  becomeLeaderState(raft);
}

function tickElection(raft: Raft): void {
  raft.ticksTotal++;
  if (raft.quiesced) return;
  raft.electionElapsed++;
  if (raft.promotable() && raft.electionElapsed >= raft.randomizedElectionTicks) {
    raft.electionElapsed = 0;
    hup(raft, false);
  }
}

/** Starts an election if allowed: with a pre-vote first unless `transfer` (leadership transfer). */
export function hup(raft: Raft, transfer: boolean): void {
  if (raft.role === "leader" || !raft.promotable()) return;
  if (hasUnappliedConfChange(raft)) return; // its outcome decides whether we may lead at all
  if (raft.preVote && !transfer) campaign(raft, "preVote", false);
  else campaign(raft, "vote", transfer);
}

function hasUnappliedConfChange(raft: Raft): boolean {
  if (raft.log.committed <= raft.log.applied || raft.log.applied + 1 < raft.log.firstIndex()) return false;
  const entries = raft.log.slice(raft.log.applied + 1, raft.log.committed + 1, Number.MAX_SAFE_INTEGER);
  return entries.some((entry) => entry.type === "confChange");
}

/** Asks every voter for a (pre-)vote; wins at once in a one-voter group. */
export function campaign(raft: Raft, kind: "preVote" | "vote", transfer: boolean): void {
  if (kind === "preVote") becomePreCandidate(raft);
  else becomeCandidate(raft);
  raft.campaignedForTransfer = transfer;
  const term = kind === "preVote" ? raft.term + 1 : raft.term;
  if (raft.tracker.recordVote(raft.id, true) === "won") {
    if (kind === "preVote") campaign(raft, "vote", false);
    else becomeLeader(raft);
    return;
  }
  const voters = new Set([...raft.tracker.conf.voters, ...raft.tracker.conf.votersOutgoing]);
  for (const id of voters) {
    if (id === raft.id) continue;
    raft.send(id, message(kind, { term, index: raft.log.lastIndex(), logTerm: raft.log.lastTerm(), transfer }));
  }
}

/** Entry point for every message: term bookkeeping and votes here, the rest by role. */
export function stepRaft(raft: Raft, m: Message): void {
  // Heartbeats and their responses never wake a quiesced replica. Under reordering, one sent before
  // the group went quiet can arrive after it: a leader woken by a late response heartbeats again and
  // draws more late responses (it never stays quiet), and a follower woken by a late heartbeat runs
  // an election timer that no heartbeat resets, then campaigns against its quiet leader. Everything
  // that needs the group awake (proposals, reads, appends, snapshots, votes, wake) still wakes it;
  // a heartbeat of a higher term resets the replica anyway. (Found by the simulator, seed 1.)
  // A woken follower always tells its leader, even when the message came from the leader: a late
  // message (a straggler append, an old vote answer) says nothing about whether the leader is
  // awake, and a follower whose timer runs while its leader stays quiet campaigns against it.
  // (Found by the simulator, seed 30390: a late pre-vote answer woke a follower of a quiet group.)
  const heartbeat = m.type === "heartbeat" || m.type === "heartbeatResp";
  if (!heartbeat) raft.wake(true);
  if (m.type === "voteResp" || m.type === "preVoteResp") learnCommit(raft, m);
  if (m.term > raft.term && !stepHigherTerm(raft, m)) return;
  if (m.term !== 0 && m.term < raft.term) {
    stepLowerTerm(raft, m);
    return;
  }
  if (m.type === "vote" || m.type === "preVote") {
    handleVoteRequest(raft, m);
    return;
  }
  raft.step(raft, m);
}

/** Returns false when the message must be ignored. */
function stepHigherTerm(raft: Raft, m: Message): boolean {
  if ((m.type === "vote" || m.type === "preVote") && !m.transfer && raft.inLease()) {
    return false; // a leader we heard from recently is alive: do not help disrupt it (thesis 4.2.3)
  }
  if (m.type === "preVote") return true; // never changes our term
  if (m.type === "preVoteResp" && !m.reject) return true; // our term rises only when the real vote starts
  const fromLeader = m.type === "app" || m.type === "heartbeat" || m.type === "snap";
  becomeFollower(raft, m.term, fromLeader ? m.from : noNode);
  return true;
}

function stepLowerTerm(raft: Raft, m: Message): void {
  if (m.type === "heartbeat" || m.type === "app" || m.type === "snap") {
    // A stale leader learns our term and steps down (thesis figure 3.1: the reply carries our
    // term). Always, not only with CheckQuorum or PreVote as in etcd-io/raft: a replica whose term
    // ran ahead and that cannot campaign (a learner in its own view) otherwise ignores the leader
    // forever and never catches up. (Found by the simulator, seed 242 with 20000 steps, both off.)
    raft.send(m.from, message("appResp", {}));
  } else if (m.type === "preVote") {
    raft.send(m.from, message("preVoteResp", { reject: true }));
  }
}

function handleVoteRequest(raft: Raft, m: Message): void {
  const responseType = m.type === "vote" ? "voteResp" : "preVoteResp";
  // A replica recovering a lost log votes for nobody: its log may lack entries its lost self
  // helped commit, and a candidate that lacks them too could win with its vote.
  const canVote =
    !raft.recovering &&
    (raft.vote === m.from || (raft.vote === noNode && raft.leader === noNode) || (m.type === "preVote" && m.term > raft.term));
  // Every answer carries our commit index and its term, so a candidate can learn what is committed
  // (see learnCommit).
  const commit = { commit: raft.log.committed, logTerm: raft.log.term(raft.log.committed) ?? 0 };
  if (canVote && raft.log.isUpToDate(m.index, m.logTerm)) {
    // Respond with the term of the request so a pre-candidate can count it (thesis 9.6).
    raft.send(m.from, message(responseType, { term: m.term, ...commit }));
    if (m.type === "vote") {
      raft.electionElapsed = 0;
      raft.vote = m.from;
    }
  } else {
    raft.send(m.from, message(responseType, { reject: true, ...commit }));
  }
}

/**
 * A (pre-)candidate learns the commit index from vote answers (the fix proposed for etcd-io/etcd
 * issue 12359). Configurations take effect when applied, so a voter that does not know a
 * membership change committed still runs the old configuration and may need a vote that a removed
 * replica, whose log is longer, refuses, while the voters that know better cannot win without it:
 * nobody is ever elected. If our entry at the voter's commit index has the same term, log matching
 * makes our log up to there the committed one, so committing it is safe; we then apply the change
 * and campaign in the new configuration. (Found by the simulator, seed 5862 before the clock-drift
 * change: joint {3,6}/{2,3} on replica 3, whose C_new was committed but not known to it.)
 */
function learnCommit(raft: Raft, m: Message): void {
  if (raft.role === "leader" || m.commit <= raft.log.committed) return;
  if (raft.log.matchTerm(m.commit, m.logTerm)) raft.log.commitTo(m.commit);
}
