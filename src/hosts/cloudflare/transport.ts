/**
 * Raft traffic from one replica Durable Object to its peers: one stub per peer (re-created after
 * a failure, since a stub whose call failed fails every later call), replies riding on the
 * response, and a small window of fetches in flight per peer (inFlightMax): messages handed over
 * while the window is full wait and leave together in the next fetch, so a busy leader sends a
 * few requests per follower per round trip (and the follower persists each in one transaction)
 * instead of one per client write. E-order (calls on one stub arrive in the order made) keeps
 * pipelined batches in order.
 * Dev-only fault injection (isolate, drop, delay) lives here too.
 */
import { decodeBatch, encodeBatch } from "../../multiraft/wire.ts";
import { noFaults, type ReplicaFaults } from "../../multiraft/protocol.ts";
import type { Message } from "../../raft/types.ts";

/** Where a transport sends and what it tells its replica. */
export interface TransportOptions {
  namespace: DurableObjectNamespace;
  group: string;
  self: number;
  /** locationHint per replica id. */
  locations: Record<string, string>;
  /** Messages that came back on a response. */
  onReplies(messages: Message[]): void;
  /** A peer could not be reached. */
  onUnreachable(peer: number): void;
}

/** The DO name of a replica: deterministic, so any Worker can compute any replica's stub. */
export function replicaName(group: string, replica: number): string {
  return `${group}/${replica}`;
}

/**
 * A fetch to a peer that has not answered after this long no longer holds back the next batch
 * (it may still answer; Raft tolerates the duplicate or the loss). Checked when the next batch is
 * handed over: heartbeats hand one over every few ticks.
 */
const stalledFetchMs = 2_000;

/**
 * Requests in flight to one peer at most; later messages wait and leave together in the next.
 * Two, not one: the next batch goes out before the previous one is answered (pipelining), so a
 * write that arrives while one batch travels does not wait a whole round trip for it first, which
 * matters between regions. Locally one in flight gives bigger batches, but repeated benchmark runs
 * could not tell the two apart (docs/benchmarks.md).
 */
const inFlightMax = 2;

/** Messages waiting for a peer beyond this many are dropped (Raft resends what matters). */
const queuedMessagesMax = 10_000;

/** What a transport has sent since its object started (reported by /internal/status). */
export interface TransportCounters {
  /** Requests to peers (each carries one batch). */
  batchesSent: number;
  messagesSent: number;
  /** Requests that failed (peer unreachable or aborted). */
  batchesFailed: number;
}

/** Sends batches to peers with per-peer stubs. */
export class PeerTransport {
  faults: ReplicaFaults = { ...noFaults };
  readonly counters: TransportCounters = { batchesSent: 0, messagesSent: 0, batchesFailed: 0 };
  private readonly options: TransportOptions;
  private readonly stubs = new Map<number, DurableObjectStub>();
  /** Messages waiting for a free slot in their peer's window. */
  private readonly queued = new Map<number, Message[]>();
  /** Per peer, the fetches in flight and when each was sent. */
  private readonly inFlight = new Map<number, Set<{ sentAtMs: number }>>();

  constructor(options: TransportOptions) {
    this.options = options;
  }

  /** Sends `messages` to `to` without waiting (a lost batch is a lost message; Raft retries). */
  send(to: number, messages: Message[]): void {
    const faults = this.faults;
    if (faults.isolated) return;
    const kept = faults.dropFraction > 0 ? messages.filter(() => Math.random() >= faults.dropFraction) : messages;
    if (kept.length === 0) return;
    if (faults.delayFraction > 0 && Math.random() < faults.delayFraction) {
      setTimeout(() => void this.dispatch(to, kept), faults.delayMs); // out of line: delayed messages overtake
      return;
    }
    const queue = this.queued.get(to);
    if (queue === undefined) this.queued.set(to, kept.slice());
    else if (queue.length + kept.length > queuedMessagesMax) this.queued.set(to, kept.slice());
    else for (const m of kept) queue.push(m);
    if (this.liveFlights(to) < inFlightMax) this.sendQueued(to);
  }

  /** Fetches to `to` in flight that have not stalled (stalled ones are forgotten). */
  private liveFlights(to: number): number {
    const flights = this.inFlight.get(to);
    if (flights === undefined) return 0;
    const now = Date.now();
    for (const flight of flights) if (now - flight.sentAtMs > stalledFetchMs) flights.delete(flight);
    return flights.size;
  }

  /** Sends everything queued for `to` in one fetch; when a fetch finishes (or stalls), the next batch goes. */
  private sendQueued(to: number): void {
    const messages = this.queued.get(to);
    if (messages === undefined) return;
    this.queued.delete(to);
    const flight = { sentAtMs: Date.now() };
    let flights = this.inFlight.get(to);
    if (flights === undefined) this.inFlight.set(to, (flights = new Set()));
    flights.add(flight);
    void this.dispatch(to, messages).finally(() => {
      if (!flights.delete(flight)) return; // it stalled and was forgotten
      if (this.liveFlights(to) < inFlightMax) this.sendQueued(to);
    });
  }

  private async dispatch(to: number, messages: Message[]): Promise<void> {
    const { group, self } = this.options;
    const body = encodeBatch({ group, from: self, to, messages });
    this.counters.batchesSent++;
    this.counters.messagesSent += messages.length;
    try {
      const headers = { "content-type": "application/octet-stream" };
      const response = await this.stub(to).fetch("https://replica/internal/raft", { method: "POST", body, headers });
      if (response.status !== 200) {
        await response.body?.cancel();
        return;
      }
      const decoded = decodeBatch(new Uint8Array(await response.arrayBuffer()));
      if (decoded.ok && decoded.batch.messages.length > 0) this.options.onReplies(decoded.batch.messages);
    } catch {
      this.counters.batchesFailed++;
      this.stubs.delete(to); // the outcome is unknown; Raft tolerates that. A new stub next time.
      this.options.onUnreachable(to);
    }
  }

  private stub(to: number): DurableObjectStub {
    let stub = this.stubs.get(to);
    if (stub === undefined) {
      const { namespace, group, locations } = this.options;
      const id = namespace.idFromName(replicaName(group, to));
      const locationHint = locations[String(to)] as DurableObjectLocationHint | undefined;
      stub = locationHint === undefined ? namespace.get(id) : namespace.get(id, { locationHint });
      this.stubs.set(to, stub);
    }
    return stub;
  }
}
