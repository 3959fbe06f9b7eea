/**
 * Client sessions for writes (Raft thesis 6.3): each in-flight write holds one session slot, a
 * (clientId, seq) pair that its retries reuse. Slots are pooled per isolate, so the number of
 * sessions the state machines keep is bounded by the router's concurrency, not its request count.
 */

/** One session slot: a client id and the sequence number of the write holding it. */
export interface SessionSlot {
  clientId: string;
  seq: number;
}

/** A pool of client sessions. */
export class SessionPool {
  private readonly free: SessionSlot[] = [];

  /** Takes a slot for one write; its seq is new for its client. */
  acquire(): SessionSlot {
    const slot = this.free.pop() ?? { clientId: crypto.randomUUID(), seq: 0 };
    slot.seq += 1;
    return slot;
  }

  /** Returns a slot once its write has a final answer (applied, or given up as unknown). */
  release(slot: SessionSlot): void {
    this.free.push(slot);
  }
}
