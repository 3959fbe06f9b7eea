/**
 * The simulated network: messages in flight ordered by a random delivery time (so they are delayed
 * and reordered), random loss and duplication when sent, and partitions (symmetric, one-way, an
 * isolated node) judged when a message arrives. Deterministic: all randomness comes from one Rng.
 */
import type { Rng } from "../../src/shared/rng.ts";
import type { Message, NodeId } from "../../src/raft/types.ts";
import { copyMessage } from "./wire.ts";
import type { NetworkFaults } from "./options.ts";

/** A message in flight. */
export interface Packet {
  message: Message;
  /** Virtual time (ticks, fractional) at which it may be delivered. */
  deliverAt: number;
  /** Send order, to break ties deterministically. */
  sequence: number;
}

/** What happened to sent messages, for the campaign summary. */
export interface NetworkCounters {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  partitioned: number;
}

/** Messages in flight between replicas, with the faults of NetworkFaults and partitions. */
export class Network {
  faults: NetworkFaults;
  readonly counters: NetworkCounters = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, partitioned: 0 };
  private readonly rng: Rng;
  private readonly heap: Packet[] = [];
  /** Directed links that lose every message: `${from}>${to}`. */
  private readonly blocked = new Set<string>();
  private sequence = 0;

  constructor(rng: Rng, faults: NetworkFaults) {
    this.rng = rng;
    this.faults = faults;
  }

  /** Number of messages in flight. */
  get size(): number {
    return this.heap.length;
  }

  /** Puts a copy of `message` on the wire at time `now`; it may be lost or duplicated. */
  send(message: Message, now: number): void {
    this.counters.sent++;
    if (this.rng.chance(this.faults.dropProbability)) {
      this.counters.dropped++;
      return;
    }
    this.enqueue(copyMessage(message), now);
    if (this.rng.chance(this.faults.duplicateProbability)) {
      this.counters.duplicated++;
      this.enqueue(copyMessage(message), now);
    }
  }

  /** Whether a message is due at `now`. */
  hasDue(now: number): boolean {
    const first = this.heap[0];
    return first !== undefined && first.deliverAt <= now;
  }

  /** Removes the next due packet; its message is a fresh copy. Undefined when none is due. */
  takeDue(now: number): Packet | undefined {
    if (!this.hasDue(now)) return undefined;
    const packet = this.pop();
    packet.message = copyMessage(packet.message);
    return packet;
  }

  /** Whether messages from `from` to `to` are currently lost. */
  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Blocks the link from `from` to `to` (one way). */
  block(from: NodeId, to: NodeId): void {
    if (from !== to) this.blocked.add(`${from}>${to}`);
  }

  /** Blocks both directions between every node of `side` and every node of `other`. */
  split(side: readonly NodeId[], other: readonly NodeId[]): void {
    for (const a of side) {
      for (const b of other) {
        this.block(a, b);
        this.block(b, a);
      }
    }
  }

  /** Loses every message from or to `replica` still in flight (its host died with its connections); returns how many. */
  dropInvolving(replica: NodeId): number {
    const kept = this.heap.filter((packet) => packet.message.from !== replica && packet.message.to !== replica);
    const dropped = this.heap.length - kept.length;
    this.heap.length = 0;
    for (const packet of kept) this.push(packet);
    return dropped;
  }

  /** Removes every partition. */
  heal(): void {
    this.blocked.clear();
  }

  /** Number of blocked directed links. */
  get blockedCount(): number {
    return this.blocked.size;
  }

  /** A readable list of blocked links, for traces. */
  describeBlocked(): string {
    return [...this.blocked].sort().join(" ");
  }

  private enqueue(message: Message, now: number): void {
    let delay = this.rng.next() * (this.faults.delayTicksMax + 1);
    if (this.rng.chance(this.faults.stragglerProbability)) delay += this.rng.next() * this.faults.stragglerTicksMax;
    this.push({ message, deliverAt: now + delay, sequence: this.sequence++ });
  }

  private push(packet: Packet): void {
    const heap = this.heap;
    heap.push(packet);
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!before(heap[child]!, heap[parent]!)) break;
      [heap[child], heap[parent]] = [heap[parent]!, heap[child]!];
      child = parent;
    }
  }

  private pop(): Packet {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    let parent = 0;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === parent) return top;
      [heap[smallest], heap[parent]] = [heap[parent]!, heap[smallest]!];
      parent = smallest;
    }
  }
}

function before(a: Packet, b: Packet): boolean {
  return a.deliverAt < b.deliverAt || (a.deliverAt === b.deliverAt && a.sequence < b.sequence);
}
