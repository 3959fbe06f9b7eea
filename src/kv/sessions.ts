/**
 * Client sessions for exactly-once application of retried commands (Raft thesis 6.3). Each client
 * keeps its last applied seq and that command's result. Sessions expire deterministically, through
 * the log: by the state machine's clock (the largest command timeMs seen) and by count (least
 * recently used first), so every replica expires the same sessions at the same entry.
 *
 * A host that stores sessions one row per client takes the changed ones with takeChanges(); each
 * row carries an order number that rebuilds the exact least-recently-used order when it reopens.
 */
import { assert, assertIndex } from "../shared/assert.ts";
import type { ApplyResult } from "./result.ts";

/** One client's session. */
export interface Session {
  /** The seq of the client's last applied command (a positive safe integer). */
  readonly lastSeq: number;
  /** What that command returned, repeated to a retry of it. */
  readonly result: ApplyResult;
  /** The state machine's clock when the client last used the session, in milliseconds. */
  readonly lastUsedMs: number;
}

/** A session with its client id, as snapshots carry it. */
export interface SessionEntry extends Session {
  readonly clientId: string;
}

/** A session as a host stores it, one row per client. */
export interface StoredSession extends SessionEntry {
  /**
   * Position in the least-recently-used order, local to this replica (neither replicated nor in
   * snapshots): a positive safe integer, distinct within a table, assigned ascending at every use.
   * Ascending order is the table's order, ties in lastUsedMs included.
   */
  readonly order: number;
}

/** The session rows a host must write to match the table since it last took changes. */
export interface SessionChanges {
  /** Delete every stored row first: the table was replaced (restore, or sessions read from a metadata blob). */
  readonly replaceAll: boolean;
  /** Sessions to insert or overwrite by clientId; with replaceAll, every live session. */
  readonly upserts: readonly StoredSession[];
  /** Client ids whose rows to delete (evicted or expired); distinct from the upserts' ids, empty with replaceAll. */
  readonly deletes: readonly string[];
}

/** A live session with its order number (see StoredSession.order). */
interface OrderedSession extends Session {
  readonly order: number;
}

/**
 * The session table. Invariant: the map iterates from least to most recently used, which is also
 * ascending lastUsedMs (the clock never goes back) and ascending order, so expiry and eviction pop
 * from the front.
 */
export class SessionTable {
  private readonly sessions = new Map<string, OrderedSession>();
  private readonly ttlMs: number;
  private readonly countMax: number;
  /** lastUsedMs of the most recently used session ever recorded; sessions arrive in clock order. */
  private newestUsedMs = 0;
  /** The largest order number assigned or loaded; the next use takes the one after it. */
  private lastOrder = 0;
  /** Client ids recorded, touched, evicted or expired since the last takeChanges; at most countMax, empty while replaceAll. */
  private readonly changed = new Set<string>();
  /** Every row must be rewritten at the next takeChanges. */
  private replaceAll = false;

  /** A table that expires sessions idle longer than `ttlMs` and keeps at most `countMax`. */
  constructor(options: { ttlMs: number; countMax: number }) {
    assertIndex(options.ttlMs, "session ttlMs");
    assert(Number.isSafeInteger(options.countMax) && options.countMax >= 1, "sessions countMax is at least 1");
    this.ttlMs = options.ttlMs;
    this.countMax = options.countMax;
  }

  /** How many sessions are live. */
  get size(): number {
    return this.sessions.size;
  }

  /** The session of `clientId`, or undefined when it has none (never had one, or it expired). */
  find(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  /** Marks the session of `clientId` used at `nowMs`, moving it to the most recently used end. */
  touch(clientId: string, nowMs: number): void {
    const session = this.sessions.get(clientId);
    assert(session !== undefined, "touch needs a live session");
    this.record(clientId, { lastSeq: session.lastSeq, result: session.result, lastUsedMs: nowMs });
  }

  /** Stores the session of `clientId` as most recently used, then evicts the least recently used past countMax. */
  record(clientId: string, session: Session): void {
    assert(session.lastUsedMs >= this.newestUsedMs, "sessions are used in clock order");
    const order = this.lastOrder + 1;
    assert(Number.isSafeInteger(order), "session order stays a safe integer");
    this.lastOrder = order;
    this.newestUsedMs = session.lastUsedMs;
    this.sessions.delete(clientId);
    this.sessions.set(clientId, { lastSeq: session.lastSeq, result: session.result, lastUsedMs: session.lastUsedMs, order });
    this.noteChanged(clientId);
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.countMax) break;
      this.sessions.delete(oldest);
      this.noteChanged(oldest);
    }
    assert(this.sessions.size <= this.countMax, "session count stays within countMax");
  }

  /**
   * Takes the sessions of another group (a range moved here), used now at `nowMs`: per client the
   * later seq wins, so a retry that crossed the move is still answered from its session.
   */
  adopt(sessions: readonly { readonly clientId: string; readonly lastSeq: number; readonly result: ApplyResult }[], nowMs: number): void {
    for (const session of sessions) {
      const mine = this.sessions.get(session.clientId);
      if (mine !== undefined && mine.lastSeq >= session.lastSeq) continue;
      this.record(session.clientId, { lastSeq: session.lastSeq, result: session.result, lastUsedMs: nowMs });
    }
  }

  /** Drops every session idle longer than ttlMs at `nowMs`; returns how many it dropped. */
  expire(nowMs: number): number {
    let expired = 0;
    for (const [clientId, session] of this.sessions) {
      if (nowMs - session.lastUsedMs <= this.ttlMs) break;
      this.sessions.delete(clientId);
      this.noteChanged(clientId);
      expired += 1;
    }
    return expired;
  }

  /** Every session, least recently used first. */
  entries(): SessionEntry[] {
    return Array.from(this.sessions, ([clientId, { lastSeq, result, lastUsedMs }]) => ({ clientId, lastSeq, result, lastUsedMs }));
  }

  /** Replaces the table with `entries` (least recently used first), evicting past countMax; every row is then rewritten. */
  load(entries: readonly SessionEntry[]): void {
    this.sessions.clear();
    this.changed.clear();
    this.replaceAll = true;
    this.newestUsedMs = 0;
    for (const { clientId, lastSeq, result, lastUsedMs } of entries) {
      this.record(clientId, { lastSeq, result, lastUsedMs });
    }
  }

  /**
   * Replaces the table with the rows a host stored (in any order), as they were when it last took
   * changes: sorted by order, which rebuilds the exact least-recently-used order. `clockMs` is the
   * state machine's clock stored with them; no session was used after it. Rows past countMax (a
   * smaller limit than when they were written) are evicted, least recently used first, as load does.
   */
  loadStored(rows: readonly StoredSession[], clockMs: number): void {
    this.sessions.clear();
    this.changed.clear();
    this.replaceAll = false;
    this.newestUsedMs = 0;
    this.lastOrder = 0;
    for (const row of [...rows].sort((left, right) => left.order - right.order)) {
      assertStoredSession(row);
      assert(row.order > this.lastOrder, "stored session orders are distinct");
      assert(!this.sessions.has(row.clientId), "stored session client ids are distinct");
      assert(row.lastUsedMs >= this.newestUsedMs && row.lastUsedMs <= clockMs, "stored sessions were used in clock order, no later than the clock");
      this.sessions.set(row.clientId, { lastSeq: row.lastSeq, result: row.result, lastUsedMs: row.lastUsedMs, order: row.order });
      this.lastOrder = row.order;
      this.newestUsedMs = row.lastUsedMs;
    }
    assert(this.sessions.size === rows.length, "every stored session is loaded");
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.countMax) break;
      this.sessions.delete(oldest);
      this.noteChanged(oldest);
    }
  }

  /** The rows that changed since the last call (or since load/loadStored), then forgets them. */
  takeChanges(): SessionChanges {
    const replaceAll = this.replaceAll;
    const upserts: StoredSession[] = [];
    const deletes: string[] = [];
    const changedIds = replaceAll ? this.sessions.keys() : this.changed.values();
    for (const clientId of changedIds) {
      const session = this.sessions.get(clientId);
      if (session === undefined) deletes.push(clientId);
      else upserts.push({ clientId, lastSeq: session.lastSeq, result: session.result, lastUsedMs: session.lastUsedMs, order: session.order });
    }
    assert(!replaceAll || (deletes.length === 0 && this.changed.size === 0), "replacing every row lists no single changes");
    this.changed.clear();
    this.replaceAll = false;
    return { replaceAll, upserts, deletes };
  }

  /** Remembers that the row of `clientId` changed; past countMax ids, rewriting every row costs no more, so it switches to that. */
  private noteChanged(clientId: string): void {
    if (this.replaceAll) return;
    this.changed.add(clientId);
    if (this.changed.size <= this.countMax) return;
    this.changed.clear();
    this.replaceAll = true;
  }
}

/** Asserts that a stored row is a well-formed session (rows come back from a host's disk). */
function assertStoredSession(row: StoredSession): void {
  assert(typeof row.clientId === "string" && row.clientId.length > 0, "a stored session has a client id");
  assert(Number.isSafeInteger(row.order) && row.order >= 1, "a stored session order is a positive safe integer");
  assert(Number.isSafeInteger(row.lastSeq) && row.lastSeq >= 1, "a stored session lastSeq is a positive safe integer");
  assertIndex(row.lastUsedMs, "stored session lastUsedMs");
  assert(typeof row.result === "object" && row.result !== null && typeof row.result.ok === "boolean", "a stored session result is an apply result");
}
