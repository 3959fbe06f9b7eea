/**
 * Pending ReadIndex requests on the leader (thesis 6.4): each waits until a quorum has answered a
 * heartbeat sent after the request arrived, which proves the leader was still leader then.
 */
import type { Index, NodeId } from "./types.ts";

/** One read waiting for leadership confirmation. */
export interface PendingRead {
  context: string;
  /** The commit index when the request arrived; the read is served at this index. */
  index: Index;
  /** Who asked: the leader itself or a follower that forwarded the read. */
  from: NodeId;
  acks: Set<NodeId>;
}

/** Ordered queue of pending reads; confirming one confirms every read queued before it. */
export class ReadOnlyQueue {
  private readonly byContext = new Map<string, PendingRead>();
  private queue: string[] = [];

  /** Number of reads waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a read; a context already queued is ignored (duplicate message). */
  add(context: string, index: Index, from: NodeId, self: NodeId): void {
    if (this.byContext.has(context)) return;
    this.byContext.set(context, { context, index, from, acks: new Set([self]) });
    this.queue.push(context);
  }

  /** Records that `from` answered the heartbeat carrying `context`; returns who has acked so far. */
  ack(context: string, from: NodeId): ReadonlySet<NodeId> | undefined {
    const read = this.byContext.get(context);
    if (read === undefined) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Whether a read with `context` is queued. */
  has(context: string): boolean {
    return this.byContext.has(context);
  }

  /** Removes and returns every read up to and including `context`, oldest first. */
  release(context: string): PendingRead[] {
    const position = this.queue.indexOf(context);
    if (position < 0) return [];
    const released = this.queue.slice(0, position + 1).map((c) => this.byContext.get(c)!);
    this.queue = this.queue.slice(position + 1);
    for (const read of released) this.byContext.delete(read.context);
    return released;
  }

  /** The newest queued context (the one a heartbeat should carry), or "" when empty. */
  last(): string {
    return this.queue[this.queue.length - 1] ?? "";
  }

  /** Drops everything (leadership lost: the requesters time out and retry). */
  clear(): void {
    this.byContext.clear();
    this.queue = [];
  }
}
