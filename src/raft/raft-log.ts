/**
 * The replica's view of its log: durable entries in Storage, plus the unstable tail (entries and
 * snapshot accepted but not yet persisted by the host), and the commit and apply positions.
 */
import { assert } from "../shared/assert.ts";
import { limitBytes, type Storage } from "./storage.ts";
import type { Entry, Index, Snapshot, Term } from "./types.ts";

/** Storage plus the unstable tail; invariant: applied <= committed <= lastIndex. */
export class RaftLog {
  readonly storage: Storage;
  /** Entries not yet persisted; unstableEntries[i] has index unstableOffset + i. */
  unstableEntries: Entry[] = [];
  unstableOffset: Index;
  /** A snapshot received from the leader and not yet persisted. */
  unstableSnapshot: Snapshot | null = null;
  /** Highest index known committed. Never decreases. */
  committed: Index;
  /** Highest index handed to the state machine. */
  applied: Index;

  constructor(storage: Storage, applied: Index) {
    this.storage = storage;
    const first = storage.firstIndex();
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.initialState().hardState.commit;
    this.applied = Math.max(applied, first - 1);
    if (this.committed < first - 1) this.committed = first - 1;
    assert(this.applied <= this.committed, () => `applied ${this.applied} beyond committed ${this.committed}`);
  }

  /** Index of the first entry available (locally known). */
  firstIndex(): Index {
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.meta.index + 1;
    return this.storage.firstIndex();
  }

  /** Index of the last entry. */
  lastIndex(): Index {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.meta.index;
    return this.storage.lastIndex();
  }

  /** Term of the last entry. */
  lastTerm(): Term {
    const term = this.term(this.lastIndex());
    assert(term !== null, "the last entry has a term");
    return term;
  }

  /** Term at `index`, or null when compacted or beyond the log. */
  term(index: Index): Term | null {
    if (index >= this.unstableOffset) {
      const entry = this.unstableEntries[index - this.unstableOffset];
      if (entry !== undefined) return entry.term;
      if (index > this.lastIndex()) return null;
    }
    if (this.unstableSnapshot !== null) {
      if (index === this.unstableSnapshot.meta.index) return this.unstableSnapshot.meta.term;
      if (index < this.unstableSnapshot.meta.index) return null;
    }
    if (index > this.lastIndex()) return null;
    return this.storage.term(index);
  }

  /** Whether the entry at `index` has `term`. */
  matchTerm(index: Index, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (thesis 3.6.1). */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [low, high) within `bytesMax` (at least one). The range must be available. */
  slice(low: Index, high: Index, bytesMax: number): Entry[] {
    if (low >= high) return [];
    assert(low >= this.firstIndex() && high <= this.lastIndex() + 1, () => `slice [${low}, ${high}) unavailable`);
    let result: Entry[] = [];
    if (low < this.unstableOffset) {
      result = this.storage.entries(low, Math.min(high, this.unstableOffset), bytesMax);
      if (result.length < Math.min(high, this.unstableOffset) - low) return result;
    }
    if (high > this.unstableOffset) {
      const from = Math.max(low, this.unstableOffset) - this.unstableOffset;
      const tail = this.unstableEntries.slice(from, high - this.unstableOffset);
      result = result.length === 0 ? tail : result.concat(tail);
    }
    return limitBytes(result, bytesMax);
  }

  /**
   * Follower side of AppendEntries: if our entry at `index` has `logTerm`, append `entries` (after
   * truncating a conflicting suffix) and advance commit. Returns the last new index, or null.
   */
  maybeAppend(index: Index, logTerm: Term, commit: Index, entries: Entry[]): Index | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `conflict at ${conflict} with committed entry ${this.committed}`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends entries after truncating anything from their first index on; returns the last index. */
  append(entries: Entry[]): Index {
    if (entries.length === 0) return this.lastIndex();
    const first = entries[0]!.index;
    assert(first - 1 >= this.committed, () => `append at ${first} would overwrite committed ${this.committed}`);
    if (first === this.unstableOffset + this.unstableEntries.length) {
      for (const entry of entries) this.unstableEntries.push(entry);
    } else if (first <= this.unstableOffset) {
      this.unstableOffset = first; // replaces part of the persisted log: the host truncates it
      this.unstableEntries = entries.slice();
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, first - this.unstableOffset).concat(entries);
    }
    return this.lastIndex();
  }

  /** First index where `entries` disagree with our log, or 0 when they all match. */
  findConflict(entries: Entry[]): Index {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking hint (etcd-io/raft's findConflictByTerm): the largest index <= `index` whose
   * term is <= `term`, so the leader can skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: Index, term: Term): { index: Index; term: Term } {
    let candidate = Math.min(index, this.lastIndex());
    for (;;) {
      const ourTerm = this.term(candidate);
      if (ourTerm === null) return { index: candidate, term: 0 };
      if (ourTerm <= term) return { index: candidate, term: ourTerm };
      candidate--;
    }
  }

  /** Raises commit to `index` (never lowers it). */
  commitTo(index: Index): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Commits `index` if it is in `term` (only current-term entries commit by counting, thesis 3.6.2). */
  maybeCommit(index: Index, term: Term): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Whether committed entries wait to be applied. */
  hasNextCommitted(): boolean {
    return this.committed > this.applied && this.applied + 1 >= this.firstIndex();
  }

  /** Committed entries after `applied`, within `bytesMax`. */
  nextCommitted(bytesMax: number): Entry[] {
    if (!this.hasNextCommitted()) return [];
    return this.slice(this.applied + 1, this.committed + 1, bytesMax);
  }

  /** Records that entries up to `index` were applied. */
  appliedTo(index: Index): void {
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** Records that the unstable tail up to (index, term) is durable. */
  stableTo(index: Index, term: Term): void {
    const position = index - this.unstableOffset;
    const entry = this.unstableEntries[position];
    if (entry === undefined || entry.term !== term) return; // overwritten meanwhile: stays unstable
    this.unstableEntries = this.unstableEntries.slice(position + 1);
    this.unstableOffset = index + 1;
  }

  /** Records that the unstable snapshot at `index` is durable. */
  stableSnapshotTo(index: Index): void {
    if (this.unstableSnapshot?.meta.index === index) this.unstableSnapshot = null;
  }

  /** Replaces the log with a snapshot from the leader (follower side of InstallSnapshot). */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstableSnapshot = snapshot;
    this.unstableEntries = [];
    this.unstableOffset = snapshot.meta.index + 1;
  }
}
