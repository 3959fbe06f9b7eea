/**
 * Raft traffic from one replica Durable Object to its peers: one stub per peer (re-created after
 * a failure, since a stub whose call failed fails every later call), one fetch per batch, replies
 * riding on the response. Dev-only fault injection (isolate, drop, delay) lives here too.
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

/** Sends batches to peers with per-peer stubs. */
export class PeerTransport {
  faults: ReplicaFaults = { ...noFaults };
  private readonly options: TransportOptions;
  private readonly stubs = new Map<number, DurableObjectStub>();

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
      setTimeout(() => void this.dispatch(to, kept), faults.delayMs);
      return;
    }
    void this.dispatch(to, kept);
  }

  private async dispatch(to: number, messages: Message[]): Promise<void> {
    const { group, self } = this.options;
    const body = encodeBatch({ group, from: self, to, messages });
    try {
      const response = await this.stub(to).fetch("https://replica/internal/raft", { method: "POST", body, headers: { "content-type": "application/json" } });
      if (response.status !== 200) {
        await response.body?.cancel();
        return;
      }
      const decoded = decodeBatch(await response.text());
      if (decoded.ok && decoded.batch.messages.length > 0) this.options.onReplies(decoded.batch.messages);
    } catch {
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
