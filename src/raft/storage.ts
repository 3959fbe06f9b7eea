/**
 * The log-store port: what the engine reads (Storage) and what the driver writes (LogStore),
 * plus the in-memory implementation used by the simulator, benchmarks and the Deno host's tests.
 */
import { assert, assertIndex } from "../shared/assert.ts";
import { encodeConfChange } from "./confchange.ts";
import type { ConfChangeSingle, ConfState, Entry, HardState, Index, Snapshot, Term } from "./types.ts";

/** Read side of durable Raft state, as the engine sees it (after etcd-io/raft's Storage). */
export interface Storage {
  /** Durable hard state and the configuration of the last snapshot. */
  initialState(): { hardState: HardState; conf: ConfState };
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): Index;
  /** Index of the last entry, or the snapshot index when the log is empty. */
  lastIndex(): Index;
  /** Term of the entry at `index`; the snapshot term for firstIndex-1; null when compacted or beyond. */
  term(index: Index): Term | null;
  /** Entries in [low, high), at most `bytesMax` of data but always at least one; range must be available. */
  entries(low: Index, high: Index, bytesMax: number): Entry[];
  /** The latest stored snapshot (index 0 when none was taken). */
  snapshot(): Snapshot;
}

/** What one Ready asks to make durable, written atomically. */
export interface LogWrite {
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
}

/** Read and write side of durable Raft state; every host implements this port. */
export interface LogStore extends Storage {
  /**
   * Atomically: install `snapshot` (dropping the log it covers), append `entries` (truncating any
   * conflicting suffix first), and record `hardState`.
   */
  save(write: LogWrite): void;
  /** Records a snapshot of the local state machine and drops the log up to its index. */
  compact(snapshot: Snapshot): void;
}

/** The configuration of an empty group: no members. Bootstrap replaces it. */
export function emptyConfState(): ConfState {
  return { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
}

/**
 * The first write of a new group's replica: one committed conf-change entry (index 1, term 1)
 * that installs the initial members. Because it is an ordinary log entry, a replica added later
 * with an empty log learns the base configuration by replaying the log (or from a snapshot).
 */
export function bootstrapWrite(conf: ConfState): LogWrite {
  const changes: ConfChangeSingle[] = [
    ...conf.voters.map((node) => ({ type: "addVoter" as const, node })),
    ...conf.learners.map((node) => ({ type: "addLearner" as const, node })),
  ];
  assert(conf.votersOutgoing.length === 0 && changes.length > 0, "bootstrap with a simple, non-empty configuration");
  const entry: Entry = { term: 1, index: 1, type: "confChange", data: encodeConfChange({ changes }) };
  return { hardState: { term: 1, vote: 0, commit: 1 }, entries: [entry], snapshot: null };
}

/** Sum of entry payload sizes; the unit of every byte bound on entries. */
export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + 16;
}

/** Cuts `entries` to the longest prefix within `bytesMax`, keeping at least one entry. */
export function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    total += entryBytes(entries[i]!);
    if (total > bytesMax && i > 0) return entries.slice(0, i);
  }
  return entries;
}

/** A LogStore kept in memory. Durable for as long as the object lives: the simulator's "disk". */
export class MemoryStorage implements LogStore {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = { meta: { index: 0, term: 0, conf: emptyConfState() }, data: new Uint8Array() };
  /** Entries after the snapshot: entries[i] has index snap.meta.index + 1 + i. */
  private log: Entry[] = [];

  /** Creates a store for a founding member of a new group (see bootstrapWrite); an empty conf gives an empty store. */
  static bootstrap(conf: ConfState): MemoryStorage {
    const storage = new MemoryStorage();
    if (conf.voters.length > 0) storage.save(bootstrapWrite(conf));
    return storage;
  }

  initialState(): { hardState: HardState; conf: ConfState } {
    return { hardState: { ...this.hardState }, conf: structuredClone(this.snap.meta.conf) };
  }

  firstIndex(): Index {
    return this.snap.meta.index + 1;
  }

  lastIndex(): Index {
    return this.snap.meta.index + this.log.length;
  }

  term(index: Index): Term | null {
    const offset = this.snap.meta.index;
    if (index === offset) return this.snap.meta.term;
    if (index < offset || index > offset + this.log.length) return null;
    return this.log[index - offset - 1]!.term;
  }

  entries(low: Index, high: Index, bytesMax: number): Entry[] {
    assert(low >= this.firstIndex() && high <= this.lastIndex() + 1 && low <= high, `entries [${low}, ${high}) unavailable`);
    const offset = this.snap.meta.index + 1;
    return limitBytes(this.log.slice(low - offset, high - offset), bytesMax);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  save(write: LogWrite): void {
    if (write.snapshot !== null) this.installSnapshot(write.snapshot);
    if (write.entries.length > 0) this.append(write.entries);
    if (write.hardState !== null) {
      assert(write.hardState.commit >= this.hardState.commit || write.snapshot !== null, "commit never goes back");
      this.hardState = { ...write.hardState };
    }
  }

  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    if (index <= this.snap.meta.index) return;
    assert(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    assert(this.term(index) === snapshot.meta.term, "snapshot term matches the log");
    this.log = this.log.slice(index - this.snap.meta.index);
    this.snap = snapshot;
  }

  private installSnapshot(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    assertIndex(index, "snapshot index");
    if (index <= this.snap.meta.index) return;
    if (this.term(index) === snapshot.meta.term) {
      this.log = this.log.slice(index - this.snap.meta.index); // keep the agreeing suffix
    } else {
      this.log = [];
    }
    this.snap = snapshot;
    if (this.hardState.commit < index) this.hardState = { ...this.hardState, commit: index };
  }

  private append(entries: Entry[]): void {
    const first = entries[0]!.index;
    const offset = this.snap.meta.index;
    assert(first > offset, `append at ${first} below snapshot ${offset}`);
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const keep = first - offset - 1;
    if (keep < this.log.length) this.log.length = keep;
    for (const entry of entries) this.log.push(entry);
  }
}
