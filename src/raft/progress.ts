/**
 * The leader's view of one follower: how far it matches, what to send next, and the bounded
 * window of AppendEntries in flight (pipelining with backpressure).
 */
import { assert } from "../shared/assert.ts";
import type { Index, ProgressState } from "./types.ts";

/** A ring of the last indexes of AppendEntries messages in flight, oldest first. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  /** Number of messages in flight; never above capacity. */
  count = 0;

  /** Most messages in flight. */
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    assert(capacity >= 1, "inflight window holds at least one message");
    this.buffer = new Array<number>(capacity).fill(0);
  }

  /** Whether no more messages may be sent. */
  full(): boolean {
    return this.count === this.capacity;
  }

  /** Records a message whose last entry is `index`; indexes must increase. */
  add(index: Index): void {
    assert(!this.full(), "inflight window overflow");
    this.buffer[(this.start + this.count) % this.capacity] = index;
    this.count++;
  }

  /** Frees every message whose last index is at most `index` (acknowledged). */
  freeLE(index: Index): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  /** Frees the oldest message (its acknowledgement may have been lost), so that one more may be sent. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  /** Frees everything (state change). */
  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

/** Replication progress of one peer; invariant: match < next. */
export class Progress {
  /** Highest index known replicated on the peer. */
  match: Index = 0;
  /** Next index to send. */
  next: Index;
  state: ProgressState = "probe";
  /** Probe state: a message was sent and no answer came yet; do not send another until a heartbeat. */
  probeSent = false;
  /** Snapshot state: index of the snapshot being sent. */
  pendingSnapshot: Index = 0;
  /** Snapshot state: bytes of the snapshot acknowledged so far. */
  snapshotOffset = 0;
  /** Highest commit index sent to the peer; an empty append carries a newer one. */
  commitSent: Index = 0;
  /** Heartbeats answered while the peer made no progress on what was sent (resend when stalled). */
  stallHeartbeats = 0;
  /** Heard from within the last election timeout (CheckQuorum). */
  recentActive = false;
  /** Learners receive the log but neither vote nor count toward commit. */
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: Index, inflightsMax: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(inflightsMax);
    this.isLearner = isLearner;
  }

  /** Enters probe state: one message at a time until the peer's log position is found. */
  becomeProbe(): void {
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  /** Enters replicate state: optimistic pipelining of entries. */
  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  /** Enters snapshot state: the peer needs the snapshot at `index`. */
  becomeSnapshot(index: Index): void {
    this.resetState("snapshot");
    this.pendingSnapshot = index;
    this.snapshotOffset = 0;
  }

  /** Records an acknowledgement up to `index`; returns whether it was news. */
  maybeUpdate(index: Index): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
      this.stallHeartbeats = 0;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Notes that entries up to `last` were sent. */
  sentEntries(last: Index, count: number): void {
    if (this.state === "replicate") {
      if (count > 0) {
        this.next = last + 1;
        this.inflights.add(last);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  /**
   * Handles a rejection of the append at `rejected`; `hint` is where the follower thinks the logs
   * may agree. Returns false for a stale rejection.
   */
  maybeDecrease(rejected: Index, hint: Index): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false; // stale
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false; // not the probe we sent last
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** The peer lost its log and holds entries up to `lastIndex` only: probe from there, nothing known to match. */
  lost(lastIndex: Index): void {
    this.resetState("probe");
    this.match = 0;
    this.commitSent = 0;
    this.next = lastIndex + 1;
  }

  /** Whether the leader must hold back appends to this peer. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotOffset = 0;
    this.stallHeartbeats = 0;
    this.state = state;
    this.inflights.reset();
  }
}
