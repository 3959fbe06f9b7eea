/**
 * Client sessions for exactly-once application of retried commands (Raft thesis 6.3). Each client
 * keeps its last applied seq and that command's result. Sessions expire deterministically, through
 * the log: by the state machine's clock (the largest command timeMs seen) and by count (least
 * recently used first), so every replica expires the same sessions at the same entry.
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

/**
 * The session table. Invariant: the map iterates from least to most recently used, which is also
 * ascending lastUsedMs (the clock never goes back), so expiry and eviction pop from the front.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly ttlMs: number;
  private readonly countMax: number;
  /** lastUsedMs of the most recently used session ever recorded; sessions arrive in clock order. */
  private newestUsedMs = 0;

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
    this.record(clientId, { ...session, lastUsedMs: nowMs });
  }

  /** Stores the session of `clientId` as most recently used, then evicts the least recently used past countMax. */
  record(clientId: string, session: Session): void {
    assert(session.lastUsedMs >= this.newestUsedMs, "sessions are used in clock order");
    this.newestUsedMs = session.lastUsedMs;
    this.sessions.delete(clientId);
    this.sessions.set(clientId, session);
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.countMax) break;
      this.sessions.delete(oldest);
    }
    assert(this.sessions.size <= this.countMax, "session count stays within countMax");
  }

  /** Drops every session idle longer than ttlMs at `nowMs`; returns how many it dropped. */
  expire(nowMs: number): number {
    let expired = 0;
    for (const [clientId, session] of this.sessions) {
      if (nowMs - session.lastUsedMs <= this.ttlMs) break;
      this.sessions.delete(clientId);
      expired += 1;
    }
    return expired;
  }

  /** Every session, least recently used first. */
  entries(): SessionEntry[] {
    return Array.from(this.sessions, ([clientId, session]) => ({ clientId, ...session }));
  }

  /** Replaces the table with `entries` (least recently used first), evicting past countMax. */
  load(entries: readonly SessionEntry[]): void {
    this.sessions.clear();
    this.newestUsedMs = 0;
    for (const { clientId, lastSeq, result, lastUsedMs } of entries) {
      this.record(clientId, { lastSeq, result, lastUsedMs });
    }
  }
}
