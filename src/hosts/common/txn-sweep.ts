/**
 * The background sweep of a group's transactions, run by its leader from the host's timer: while
 * the group holds intents or transaction records, every sweepIntervalMs it hands those past their
 * deadline to the cluster (which pushes their records and resolves them). A group without any sets
 * no timer for it, so an idle group stays idle.
 */
import type { ReplicaRuntime } from "./replica-runtime.ts";

/** How often a leader holding intents or records looks for abandoned ones, in milliseconds. */
export const sweepIntervalMs = 2_000;

/** The work of one sweep: intents and records whose deadline passed. */
export interface SweepWork {
  readonly intents: readonly { readonly key: string; readonly txn: string; readonly recordKey: string; readonly deadlineMs: number }[];
  readonly records: readonly { readonly txn: string; readonly recordKey: string; readonly keys: readonly string[] }[];
}

/** Decides when to sweep and what; the host runs the work (it needs a cluster client). */
export class TxnSweeper {
  private readonly runtime: () => ReplicaRuntime | undefined;
  private readonly run: (work: SweepWork) => Promise<void>;
  private readonly nowMs: () => number;
  private lastSweepAtMs: number;
  private running = false;

  constructor(options: { runtime: () => ReplicaRuntime | undefined; run: (work: SweepWork) => Promise<void>; nowMs: () => number }) {
    this.runtime = options.runtime;
    this.run = options.run;
    this.nowMs = options.nowMs;
    this.lastSweepAtMs = options.nowMs();
  }

  /** When the host's timer should fire for the next sweep, or null (not the leader, or nothing held). */
  dueAtMs(): number | null {
    const runtime = this.runtime();
    if (runtime === undefined || runtime.node.brief().role !== "leader") return null;
    return runtime.holdsTransactions ? this.lastSweepAtMs + sweepIntervalMs : null;
  }

  /** Sweeps when due (one sweep at a time): the promise of its work, or undefined when nothing was started. */
  maybeSweep(): Promise<void> | undefined {
    const due = this.dueAtMs();
    const now = this.nowMs();
    if (due === null || due > now || this.running) return undefined;
    this.lastSweepAtMs = now;
    const held = this.runtime()!.transactions();
    const work: SweepWork = {
      intents: held.intents.filter((intent) => intent.deadlineMs <= now),
      records: held.records.filter(([, record]) => record.deadlineMs <= now).map(([txn, record]) => ({ txn, recordKey: record.recordKey, keys: record.keys })),
    };
    if (work.intents.length === 0 && work.records.length === 0) return undefined;
    this.running = true;
    return this.run(work).finally(() => {
      this.running = false;
    });
  }
}
