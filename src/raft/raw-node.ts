/**
 * RawNode: the synchronous interface hosts use (after etcd-io/raft). Inputs go in through
 * step/tick/propose/readIndex; everything the host must do comes out through ready()/advance().
 */
import { assert } from "../shared/assert.ts";
import { committedBytesPerReadyMax } from "../shared/limits.ts";
import { becomeFollower, hup, message, Raft, stepRaft, type RaftConfig } from "./raft.ts";
import { appendEntries, flushLeader, handleReadIndex, maybeCommit, payloadBytes } from "./raft-leader.ts";
import { changeConf, encodeConfChange, isJoint, isVoter } from "./confchange.ts";
import type { Storage } from "./storage.ts";
import {
  noNode,
  type ConfChange,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  type ProposalResult,
  type Ready,
  type SoftState,
  type Status,
} from "./types.ts";

export type { RaftConfig } from "./raft.ts";

/** A replica as the host drives it. Not re-entrant: one call at a time, ready() then advance(). */
export class RawNode {
  private readonly raft: Raft;
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  /** The Ready handed out and not yet advanced. */
  private inFlight: Ready | null = null;

  constructor(config: RaftConfig, storage: Storage) {
    this.raft = new Raft(config, storage);
    this.previousHardState = this.hardState();
    this.previousSoftState = this.softState();
  }

  /** Advances logical time by one tick (election and heartbeat timers). */
  tick(): void {
    this.raft.tick(this.raft);
  }

  /**
   * Leaves quiescence (restarts the election timer) without proposing anything: a host calls it
   * when a client turns up at a quiet follower, so a leader that died while the group was quiet is
   * noticed and replaced.
   */
  wake(): void {
    this.raft.wake(true);
  }

  /**
   * Whether an election started on demand (a client at a replica that knows no leader) may help:
   * at a replica that just started or that was quiet (time stood still: a leader may have died
   * meanwhile), or one that has had no leader for a whole election timeout. Not at one that
   * learned a new term from another replica's election less than a timeout ago (a transfer's
   * target, a contested failover): that election is under way, and a second one at the old
   * leader, whose pre-vote the candidate grants, would take the group over from it.
   */
  mayCampaignOnDemand(): boolean {
    const raft = this.raft;
    return raft.ticksTotal < raft.electionTicks || raft.quiesced || raft.electionElapsed >= raft.electionTicks;
  }

  /** Starts an election now (tests, or a host that knows the leader is gone). */
  campaign(): void {
    this.raft.wake(false);
    hup(this.raft, false);
  }

  /** Feeds a message from a peer. Messages for other replicas or of local-only kinds are ignored. */
  step(m: Message): void {
    if (m.to !== this.raft.id && m.to !== noNode) return;
    stepRaft(this.raft, m);
  }

  /** Proposes a command; on a follower it is forwarded to the leader (and may be lost: retry). */
  propose(data: Uint8Array): ProposalResult {
    return this.proposeEntry("normal", data);
  }

  /** Proposes a membership change (joint consensus); at most one may be pending. */
  proposeConfChange(change: ConfChange): ProposalResult {
    const raft = this.raft;
    if (raft.role !== "leader") return this.refuse(raft.leader === noNode ? "noLeader" : "notLeader");
    if (raft.pendingConfIndex > raft.log.applied || isJoint(raft.tracker.conf)) return this.refuse("confChangePending");
    if (!changeConf(raft.tracker.conf, change).ok) return this.refuse("badConfChange");
    const result = this.proposeEntry("confChange", encodeConfChange(change));
    if (result.ok) raft.pendingConfIndex = raft.log.lastIndex();
    return result;
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState carrying `context`. */
  readIndex(context: string, options: { lease?: boolean } = {}): void {
    this.raft.wake(true);
    const request = message("readIndex", { from: this.raft.id, context, lease: options.lease ?? false });
    if (this.raft.role === "leader") handleReadIndex(this.raft, request);
    else stepRaft(this.raft, request);
  }

  /** Asks the leader to hand leadership to `to` (thesis 3.10). */
  transferLeader(to: NodeId): void {
    this.raft.wake(true);
    stepRaft(this.raft, message("transferLeader", { from: to }));
  }

  /**
   * Applies a committed membership change at apply time and returns the configuration now in
   * force. Invalid changes are ignored identically on every replica.
   */
  applyConfChange(change: ConfChange): ConfState {
    const raft = this.raft;
    const result = changeConf(raft.tracker.conf, change);
    if (!result.ok) return raft.tracker.conf;
    raft.tracker.setConf(result.conf, raft.log.lastIndex());
    if (raft.role === "leader") {
      if (!isJoint(result.conf) && !isVoter(result.conf, raft.id)) {
        becomeFollower(raft, raft.term, noNode); // removed: step down once the change commits (thesis 4.2.2)
      } else {
        maybeCommit(raft);
        raft.appendsPending = true;
      }
    }
    return result.conf;
  }

  /** Tells the engine a peer could not be reached, so its pipeline restarts with a probe. */
  reportUnreachable(id: NodeId): void {
    const progress = this.raft.tracker.progress.get(id);
    if (this.raft.role === "leader" && progress?.state === "replicate") progress.becomeProbe();
  }

  /** Whether ready() has anything to do. */
  hasReady(): boolean {
    const raft = this.raft;
    flushLeader(raft);
    if (raft.messages.length > 0 || raft.readStates.length > 0) return true;
    if (raft.log.unstableEntries.length > 0 || raft.log.unstableSnapshot !== null) return true;
    if (raft.log.hasNextCommitted()) return true;
    if (!sameHardState(this.hardState(), this.previousHardState)) return true;
    return !sameSoftState(this.softState(), this.previousSoftState);
  }

  /** Collects the work for the host; see Ready for the order it must be carried out in. */
  ready(): Ready {
    assert(this.inFlight === null, "ready() called twice without advance()");
    const raft = this.raft;
    flushLeader(raft);
    const hardState = this.hardState();
    const softState = this.softState();
    const ready: Ready = {
      softState: sameSoftState(softState, this.previousSoftState) ? null : softState,
      hardState: sameHardState(hardState, this.previousHardState) ? null : hardState,
      entries: raft.log.unstableEntries.slice(),
      snapshot: raft.log.unstableSnapshot,
      messages: raft.messages,
      committedEntries: raft.log.nextCommitted(committedBytesPerReadyMax),
      readStates: raft.readStates,
    };
    raft.messages = [];
    raft.readStates = [];
    this.inFlight = ready;
    return ready;
  }

  /** Acknowledges the last Ready: its writes are durable and its committed entries applied. */
  advance(): void {
    const ready = this.inFlight;
    assert(ready !== null, "advance() without ready()");
    this.inFlight = null;
    const raft = this.raft;
    if (ready.softState !== null) this.previousSoftState = ready.softState;
    if (ready.hardState !== null) this.previousHardState = ready.hardState;
    if (ready.snapshot !== null) {
      raft.log.stableSnapshotTo(ready.snapshot.meta.index);
      raft.log.appliedTo(Math.max(raft.log.applied, ready.snapshot.meta.index));
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) raft.log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      raft.log.appliedTo(lastApplied.index);
      if (raft.role === "leader") raft.uncommittedBytes = Math.max(0, raft.uncommittedBytes - payloadBytes(ready.committedEntries));
    }
  }

  /** The cheap part of status(), for hot paths: no copies. */
  brief(): { term: number; leader: NodeId; role: SoftState["role"]; quiesced: boolean; commit: number; applied: number; lastIndex: number } {
    const raft = this.raft;
    return {
      term: raft.term,
      leader: raft.leader,
      role: raft.role,
      quiesced: raft.quiesced,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
    };
  }

  /** A point-in-time view for health reports and tests. */
  status(): Status {
    const raft = this.raft;
    const progress: Status["progress"] = {};
    if (raft.role === "leader") {
      for (const [id, p] of raft.tracker.progress) progress[id] = { match: p.match, next: p.next, state: p.state, recentActive: p.recentActive };
    }
    return {
      id: raft.id,
      term: raft.term,
      vote: raft.vote,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      firstIndex: raft.log.firstIndex(),
      leader: raft.leader,
      role: raft.role,
      quiesced: raft.quiesced,
      conf: structuredClone(raft.tracker.conf),
      progress,
      leadTransferee: raft.leadTransferee,
      leadsByTransfer: raft.role === "leader" && raft.campaignedForTransfer,
      recovering: raft.recovering,
    };
  }

  /** Whether the replica still recovers a lost log (RaftConfig.recovering); once false, the host may forget that it lost it. */
  recovering(): boolean {
    return this.raft.recovering;
  }

  private proposeEntry(type: "normal" | "confChange", data: Uint8Array): ProposalResult {
    const raft = this.raft;
    raft.wake(true);
    if (data.byteLength > raft.uncommittedBytesMax) return this.refuse("tooLarge");
    if (raft.role === "leader") {
      if (raft.leadTransferee !== noNode) return this.refuse("transferring");
      return appendEntries(raft, [{ type, data }]) ? { ok: true } : this.refuse("busy");
    }
    if (raft.leader === noNode) return this.refuse("noLeader");
    if (type !== "normal") return this.refuse("notLeader");
    raft.forward(raft.leader, message("prop", { from: raft.id, entries: [{ term: 0, index: 0, type, data }] }));
    return { ok: true };
  }

  private refuse(error: Exclude<ProposalResult, { ok: true }>["error"]): ProposalResult {
    return { ok: false, error, leader: this.raft.leader };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  private softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role, quiesced: this.raft.quiesced };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role && a.quiesced === b.quiesced;
}
