/**
 * The shared SqliteLogStore, noting whether the current pass wrote something Raft relies on after
 * a crash (etcd's MustSync): new entries, a snapshot, or a new term or vote. A pass that only
 * moved the commit index, or applied entries, need not reach the disk before the replica goes on.
 */
import { SqliteLogStore } from "../common/sqlite/sqlite-log-store.ts";
import type { SqlRunner } from "../common/sqlite/schema.ts";
import type { LogWrite } from "../../raft/storage.ts";

/** A SqliteLogStore that remembers, until asked, whether a save must be synced. */
export class SyncNotingLogStore extends SqliteLogStore {
  private syncedTerm: number;
  private syncedVote: number;
  private mustSync = false;
  private termOrVoteChanged = false;
  /** Lowest log index a save wrote (or replaced, 0 for a snapshot) since the last call to takeLowestWritten. */
  private lowestWritten: number | undefined;

  /** A store over `sql`; with `scope`, one replica's rows of a node's shared database. */
  constructor(sql: SqlRunner, scope?: string) {
    super(sql, scope);
    const { hardState } = this.initialState();
    this.syncedTerm = hardState.term;
    this.syncedVote = hardState.vote;
  }

  override save(write: LogWrite): void {
    super.save(write);
    if (write.entries.length > 0 || write.snapshot !== null) this.mustSync = true;
    const lowest = write.snapshot !== null ? 0 : write.entries[0]?.index;
    if (lowest !== undefined) this.lowestWritten = Math.min(this.lowestWritten ?? lowest, lowest);
    const hardState = write.hardState;
    if (hardState !== null && (hardState.term !== this.syncedTerm || hardState.vote !== this.syncedVote)) {
      this.mustSync = true;
      this.termOrVoteChanged = true;
      this.syncedTerm = hardState.term;
      this.syncedVote = hardState.vote;
    }
  }

  /** Whether anything saved since the last call must be synced; resets the note. */
  takeMustSync(): boolean {
    const mustSync = this.mustSync;
    this.mustSync = false;
    return mustSync;
  }

  /** The lowest log index saved since the last call (undefined: no entry or snapshot saved); resets the note. */
  takeLowestWritten(): number | undefined {
    const lowest = this.lowestWritten;
    this.lowestWritten = undefined;
    return lowest;
  }

  /** Whether a save since the last call wrote a new term or vote; resets the note. */
  takeTermOrVoteChanged(): boolean {
    const changed = this.termOrVoteChanged;
    this.termOrVoteChanged = false;
    return changed;
  }
}
