/**
 * The one driver loop every host shares (Cloudflare, Deno, simulator): it drains Ready in the
 * order the engine requires. Pure and synchronous: the ports do the host's work.
 */
import { assert } from "../shared/assert.ts";
import type { RawNode } from "./raw-node.ts";
import type { LogStore } from "./storage.ts";
import { decodeConfChange } from "./confchange.ts";
import type { ConfState, Entry, Message, ReadState, Snapshot, SoftState } from "./types.ts";

/** What a host supplies to the driver. Every call is synchronous; sends are enqueued, not awaited. */
export interface DriverPorts {
  /** Durable log: written before anything is sent. */
  store: LogStore;
  /** Hands messages to the transport (which may batch them per destination). */
  send(messages: Message[]): void;
  /** Applies one committed normal entry to the state machine (empty data: a leader's no-op). */
  apply(entry: Entry): void;
  /** Replaces the state machine with a snapshot's contents. */
  restore(snapshot: Snapshot): void;
  /** Encodes the state machine as of the last applied entry (for log compaction). */
  takeSnapshot(): Uint8Array;
  /** Reads that may be answered once the state machine has applied their index. */
  readStates?(states: ReadState[]): void;
  /** Leadership or role changed. */
  softState?(state: SoftState): void;
  /** A membership change was applied; `conf` is now in force. */
  confChanged?(conf: ConfState, entry: Entry): void;
}

/** Driver settings. */
export interface DriverOptions {
  /** Take a snapshot and compact the log once this many entries were applied since the last one. */
  snapshotEntries: number;
}

/**
 * Drains every Ready: (1) persist snapshot, entries and hard state in one write; (2) send;
 * (3) restore the snapshot, then apply committed entries in order; (4) advance.
 * Returns the number of Ready cycles processed.
 */
export function drive(node: RawNode, ports: DriverPorts, options: DriverOptions): number {
  let cycles = 0;
  while (node.hasReady()) {
    const ready = node.ready();
    cycles++;
    if (ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null) {
      ports.store.save({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot });
    }
    if (ready.messages.length > 0) ports.send(ready.messages);
    if (ready.snapshot !== null) ports.restore(ready.snapshot);
    let lastApplied: Entry | undefined;
    for (const entry of ready.committedEntries) {
      if (entry.type === "confChange") {
        const change = decodeConfChange(entry.data);
        const conf = change === undefined ? node.status().conf : node.applyConfChange(change);
        ports.confChanged?.(conf, entry);
      } else {
        ports.apply(entry);
      }
      lastApplied = entry;
    }
    if (ready.softState !== null) ports.softState?.(ready.softState);
    if (ready.readStates.length > 0) ports.readStates?.(ready.readStates);
    node.advance();
    if (lastApplied !== undefined) maybeCompact(node, ports, options, lastApplied);
  }
  return cycles;
}

function maybeCompact(node: RawNode, ports: DriverPorts, options: DriverOptions, lastApplied: Entry): void {
  const first = ports.store.firstIndex();
  if (lastApplied.index - (first - 1) < options.snapshotEntries) return;
  const conf = node.status().conf;
  assert(ports.store.term(lastApplied.index) === lastApplied.term, "an applied entry is durable");
  ports.store.compact({ meta: { index: lastApplied.index, term: lastApplied.term, conf }, data: ports.takeSnapshot() });
}
