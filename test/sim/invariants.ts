/**
 * The Raft safety invariants (thesis figure 3.2 and section 3.6), checked as the simulation runs:
 * election safety, log matching, leader completeness, state machine safety, and that commit and
 * apply only move forward. The checker keeps global records over the whole run (leaders of every
 * term, every entry ever seen at a position, every committed and applied entry) and throws a
 * SafetyViolation the moment an observation contradicts them.
 */
import { createHash } from "node:crypto";
import { describeConf } from "./trace.ts";
import type { ConfState, Entry, Index, NodeId, Role, Term } from "../../src/raft/types.ts";

/** A broken safety property; the message says which and where. */
export class SafetyViolation extends Error {
  override name = "SafetyViolation";
}

/** The part of a replica's durable log the checker reads. MemoryStorage satisfies it. */
export interface LogView {
  firstIndex(): Index;
  lastIndex(): Index;
  term(index: Index): Term | null;
}

/** A replica's state after a step, as the checker sees it. */
export interface ReplicaView {
  id: NodeId;
  role: Role;
  term: Term;
  vote: NodeId;
  commit: Index;
  /** What the engine believes it applied. */
  applied: Index;
  /** What the host's state machine actually applied. */
  hostApplied: Index;
  log: LogView;
}

/** One entry in a global record: its term and a digest of its type and data. */
interface Recorded {
  term: Term;
  digest: string;
  replica: NodeId;
}

/** A committed entry: its term, who first reported it, and the lowest term in which any replica knew it committed. */
interface Committed {
  term: Term;
  replica: NodeId;
  commitTerm: Term;
}

/** Checks every safety invariant against observations fed to it by the simulation. */
export class SafetyChecker {
  /** Election safety: the leader of each term. */
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  /** Log matching: per index, per term, the entry first seen there and the term before it. */
  private readonly positions = new Map<Index, Map<Term, Recorded & { previousTerm: Term | null }>>();
  /** Every entry known committed somewhere. */
  private readonly committed = new Map<Index, Committed>();
  /** State machine safety: the entry first applied at each index, and the configuration it led to. */
  private readonly appliedAt = new Map<Index, Recorded>();
  private readonly confAt = new Map<Index, string>();
  /** State-machine snapshots taken at each index (a digest of the encoded state). */
  private readonly snapshotAt = new Map<Index, Recorded>();
  /** Per replica, across its lives: highest commit, last applied index, last durable term and vote. */
  private readonly commitOf = new Map<NodeId, Index>();
  private readonly lastAppliedOf = new Map<NodeId, Index>();
  private readonly hardStateOf = new Map<NodeId, { term: Term; vote: NodeId }>();
  /** Replicas leading now, with their term and log, for leader completeness of later commits. */
  private readonly leading = new Map<NodeId, { term: Term; log: LogView }>();
  private readonly verifiedLeaders = new Set<string>();

  /** Log matching: entries just made durable on `replica`, whose log (after the write) is `log`. */
  observeEntries(replica: NodeId, entries: readonly Entry[], log: LogView): void {
    for (const entry of entries) {
      const digest = entryDigest(entry);
      const previousTerm = log.term(entry.index - 1);
      let byTerm = this.positions.get(entry.index);
      if (byTerm === undefined) this.positions.set(entry.index, (byTerm = new Map()));
      const seen = byTerm.get(entry.term);
      if (seen === undefined) {
        byTerm.set(entry.term, { term: entry.term, digest, replica, previousTerm });
        continue;
      }
      if (seen.digest !== digest) {
        this.fail(`log matching: replica ${replica} holds entry (index ${entry.index}, term ${entry.term}) with other data than replica ${seen.replica} held`);
      }
      if (seen.previousTerm !== null && previousTerm !== null && seen.previousTerm !== previousTerm) {
        this.fail(
          `log matching: entry (index ${entry.index}, term ${entry.term}) follows term ${previousTerm} on replica ${replica} but term ${seen.previousTerm} on replica ${seen.replica}`,
        );
      }
    }
  }

  /** A replica (re)started with its state machine at `snapshotIndex`. */
  observeStarted(replica: NodeId, snapshotIndex: Index): void {
    this.lastAppliedOf.set(replica, snapshotIndex);
    this.leading.delete(replica);
  }

  /**
   * A replica lost its disk and starts again empty (fenced and recovering): its own records of
   * commit, apply and hard state start over, the global ones stay.
   */
  observeWiped(replica: NodeId): void {
    this.commitOf.delete(replica);
    this.lastAppliedOf.delete(replica);
    this.hardStateOf.delete(replica);
    this.leading.delete(replica);
  }

  /** A replica crashed. */
  observeDown(replica: NodeId): void {
    this.leading.delete(replica);
  }

  /** State machine safety: `replica` applied `entry` (and, for a membership change, now runs `conf`). */
  observeApplied(replica: NodeId, entry: Entry, conf?: ConfState): void {
    const last = this.lastAppliedOf.get(replica) ?? 0;
    if (entry.index !== last + 1) this.fail(`apply order: replica ${replica} applied index ${entry.index} after ${last}`);
    this.lastAppliedOf.set(replica, entry.index);
    const digest = entryDigest(entry);
    const first = this.appliedAt.get(entry.index);
    if (first === undefined) this.appliedAt.set(entry.index, { term: entry.term, digest, replica });
    else if (first.term !== entry.term || first.digest !== digest) {
      this.fail(
        `state machine safety: replica ${replica} applied (index ${entry.index}, term ${entry.term}) where replica ${first.replica} applied (index ${entry.index}, term ${first.term}) ${first.digest === digest ? "" : "with other data"}`,
      );
    }
    if (conf === undefined) return;
    const described = describeConf(conf);
    const firstConf = this.confAt.get(entry.index);
    if (firstConf === undefined) this.confAt.set(entry.index, described);
    else if (firstConf !== described) {
      this.fail(`configuration safety: replica ${replica} runs ${described} after index ${entry.index}, another replica ran ${firstConf}`);
    }
  }

  /** `replica` replaced its state machine with a snapshot at `index`. */
  observeRestored(replica: NodeId, index: Index): void {
    const last = this.lastAppliedOf.get(replica) ?? 0;
    if (index <= last) this.fail(`apply order: replica ${replica} restored a snapshot at ${index} after applying ${last}`);
    this.lastAppliedOf.set(replica, index);
  }

  /** `replica` encoded its state machine at `index`: every replica must encode the same state there. */
  observeSnapshot(replica: NodeId, index: Index, data: Uint8Array): void {
    const digest = bytesDigest(data);
    const first = this.snapshotAt.get(index);
    if (first === undefined) this.snapshotAt.set(index, { term: 0, digest, replica });
    else if (first.digest !== digest) {
      this.fail(`state machine safety: replica ${replica}'s state at index ${index} differs from replica ${first.replica}'s`);
    }
  }

  /** Checks a replica after a step: election safety, durable term and vote, commit and apply, leader completeness. */
  checkReplica(view: ReplicaView): void {
    this.checkHardState(view);
    if (view.applied > view.commit) this.fail(`replica ${view.id} applied ${view.applied} beyond its commit ${view.commit}`);
    if (view.hostApplied !== view.applied) {
      this.fail(`replica ${view.id}: the engine counts ${view.applied} applied, the state machine ${view.hostApplied}`);
    }
    this.checkCommit(view);
    if (view.role !== "leader") {
      this.leading.delete(view.id);
      return;
    }
    const leader = this.leaderOfTerm.get(view.term);
    if (leader === undefined) this.leaderOfTerm.set(view.term, view.id);
    else if (leader !== view.id) this.fail(`election safety: replicas ${leader} and ${view.id} both lead term ${view.term}`);
    this.leading.set(view.id, { term: view.term, log: view.log });
    const key = `${view.id}:${view.term}`;
    if (this.verifiedLeaders.has(key)) return;
    this.verifiedLeaders.add(key);
    for (const [index, record] of this.committed) {
      if (record.commitTerm < view.term) this.checkLeaderHas(view.id, view.term, view.log, index, record);
    }
  }

  /** How many leaders were elected over the run (distinct terms with a leader). */
  get leadersCount(): number {
    return this.leaderOfTerm.size;
  }

  private checkHardState(view: ReplicaView): void {
    const previous = this.hardStateOf.get(view.id);
    if (previous !== undefined) {
      if (view.term < previous.term) this.fail(`replica ${view.id}'s term went back from ${previous.term} to ${view.term}`);
      if (view.term === previous.term && previous.vote !== 0 && view.vote !== previous.vote) {
        this.fail(`replica ${view.id} voted for ${previous.vote} and then ${view.vote} in term ${view.term}`);
      }
    }
    this.hardStateOf.set(view.id, { term: view.term, vote: view.vote });
  }

  /** Commit never goes back (across restarts too); newly committed entries join the global record. */
  private checkCommit(view: ReplicaView): void {
    const previous = this.commitOf.get(view.id) ?? 0;
    if (view.commit < previous) this.fail(`replica ${view.id}'s commit went back from ${previous} to ${view.commit}`);
    if (view.commit === previous) return;
    this.commitOf.set(view.id, view.commit);
    for (let index = Math.max(previous + 1, view.log.firstIndex()); index <= view.commit; index++) {
      const term = view.log.term(index);
      if (term === null) this.fail(`replica ${view.id} committed ${view.commit} but lacks entry ${index}`);
      this.recordCommitted(view.id, index, term, view.term);
    }
  }

  private recordCommitted(replica: NodeId, index: Index, term: Term, observerTerm: Term): void {
    const record = this.committed.get(index);
    if (record !== undefined) {
      if (record.term !== term) {
        this.fail(`commit safety: index ${index} committed with term ${record.term} on replica ${record.replica} and term ${term} on replica ${replica}`);
      }
      if (observerTerm >= record.commitTerm) return;
      record.commitTerm = observerTerm;
    }
    const fresh = record ?? { term, replica, commitTerm: observerTerm };
    this.committed.set(index, fresh);
    for (const [leader, { term: leaderTerm, log }] of this.leading) {
      if (leaderTerm > fresh.commitTerm) this.checkLeaderHas(leader, leaderTerm, log, index, fresh);
    }
  }

  /** Leader completeness: a leader of a later term holds every committed entry (or a snapshot covering it). */
  private checkLeaderHas(leader: NodeId, leaderTerm: Term, log: LogView, index: Index, record: Committed): void {
    if (index < log.firstIndex()) return; // compacted into the leader's snapshot
    const term = log.term(index);
    if (term !== record.term) {
      this.fail(
        `leader completeness: leader ${leader} of term ${leaderTerm} has ${term === null ? "no entry" : `term ${term}`} at index ${index}, committed with term ${record.term} in term ${record.commitTerm}`,
      );
    }
  }

  private fail(message: string): never {
    throw new SafetyViolation(message);
  }
}

/** A digest of an entry's type and data. */
export function entryDigest(entry: Entry): string {
  return `${entry.type[0]}${bytesDigest(entry.data)}`;
}

function bytesDigest(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}
