/**
 * A data group leader's load reports to the metadata group's balancer: while the group takes
 * writes, every few seconds it measures its keys, bytes and write rate and reports when a split
 * threshold is passed; when it has taken no write for quietMs while small, it reports that once (a
 * merge candidate), from one last alarm after its last write. Nothing is sent by an idle group and
 * nothing is polled.
 */
import { defaultBalanceThresholds, splitReason, type BalanceThresholds, type GroupLoad } from "../../multiraft/balance.ts";
import type { Ownership } from "../../multiraft/protocol.ts";
import type { ReplicaRuntime } from "./replica-runtime.ts";

/** How often a busy leader measures itself, in milliseconds. */
const checkIntervalMs = 2_000;
/** Least time between two split reports of one group, in milliseconds (the balancer needs time to split). */
const reportIntervalMs = 10_000;
/** A group with no write for this long is quiet, in milliseconds. */
export const quietMs = 5_000;

/** What the reporter reads from its replica. */
export interface LoadSource {
  readonly group: string;
  /** Keys and bytes (keys plus values) the group stores, and its ownership epoch. */
  measure(): { keys: number; bytes: number; epoch?: number };
  /** Proposals this replica took as leader since it started. */
  proposals(): number;
  /** Whether this replica leads its group now. */
  leading(): boolean;
  nowMs(): number;
}

/** Decides when a leader reports its load. */
export class LoadReporter {
  private readonly source: LoadSource;
  private readonly thresholds: BalanceThresholds;
  private readonly send: (load: GroupLoad) => void;
  private lastCheck: { atMs: number; proposals: number } | undefined;
  private lastReportAtMs = Number.NEGATIVE_INFINITY;
  /** When the last write was handled here, while a quiet check is due after it. */
  private lastWriteAtMs: number | undefined;
  /** A group with no write for this long is idle (IDLE_AFTER_MS): its one quiet check runs, then it sets no alarm. */
  private readonly idleAfterMs: number;

  constructor(source: LoadSource, thresholds: BalanceThresholds, send: (load: GroupLoad) => void, idleAfterMs = quietMs) {
    this.source = source;
    this.idleAfterMs = idleAfterMs;
    this.thresholds = thresholds;
    this.send = send;
  }

  /** A client write was handled here. */
  afterWrite(): void {
    if (!this.source.leading()) return;
    const now = this.source.nowMs();
    this.lastWriteAtMs = now;
    const proposals = this.source.proposals();
    if (this.lastCheck === undefined || proposals < this.lastCheck.proposals) {
      this.lastCheck = { atMs: now, proposals };
      return;
    }
    const elapsedMs = now - this.lastCheck.atMs;
    if (elapsedMs < checkIntervalMs) return;
    const writesPerSecond = ((proposals - this.lastCheck.proposals) * 1000) / elapsedMs;
    this.lastCheck = { atMs: now, proposals };
    const load = { group: this.source.group, ...this.source.measure(), writesPerSecond, quiet: false };
    if (splitReason(load, this.thresholds) === undefined || now - this.lastReportAtMs < reportIntervalMs) return;
    this.lastReportAtMs = now;
    this.send(load);
  }

  /** When the host should call quietCheck() (one alarm after the last write), or null for never. */
  quietCheckAtMs(): number | null {
    return this.lastWriteAtMs === undefined ? null : this.lastWriteAtMs + this.idleAfterMs;
  }

  /** The quiet check is due: a leader that took no write for quietMs and holds few keys reports it once. */
  quietCheck(): void {
    if (this.lastWriteAtMs === undefined || this.source.nowMs() < this.lastWriteAtMs + this.idleAfterMs) return;
    this.lastWriteAtMs = undefined;
    this.lastCheck = undefined;
    if (!this.source.leading()) return;
    const measured = this.source.measure();
    if (measured.keys >= this.thresholds.mergeKeys) return;
    this.send({ group: this.source.group, ...measured, writesPerSecond: 0, quiet: true });
  }
}

/**
 * Whether a group's leader reports its load: only groups of the shared keyspace, the one the
 * balancer splits and merges (a tenant's group owns its tenant's whole keyspace and is never
 * reshaped automatically, so its reports would only be dropped).
 */
export function reportsLoad(owns: Ownership): boolean {
  return !("tenant" in owns);
}

/** The load source of a replica: its KV store's size, the ownership epoch and proposals of its runtime. */
export function replicaLoadSource(group: string, kv: { size(): { keys: number; bytes: number } }, runtime: () => ReplicaRuntime | undefined): LoadSource {
  return {
    group,
    measure: () => {
      const epoch = runtime()?.ownership?.epoch;
      return { ...kv.size(), ...(epoch === undefined ? {} : { epoch }) };
    },
    proposals: () => runtime()?.proposalsTaken ?? 0,
    leading: () => runtime()?.node.brief().role === "leader",
    nowMs: () => Date.now(),
  };
}

/** The settings of automatic splits and merges (Worker vars, or a Deno node's environment). */
export interface BalanceSettings {
  SPLIT_KEYS?: string | undefined;
  SPLIT_BYTES?: string | undefined;
  SPLIT_WRITES_PER_SECOND?: string | undefined;
  MERGE_KEYS?: string | undefined;
  IDLE_AFTER_MS?: string | undefined;
}

/** The balance thresholds from the settings, each falling back to its default when absent or not a positive number. */
export function thresholdsOf(settings: BalanceSettings): BalanceThresholds {
  const defaults = defaultBalanceThresholds;
  return {
    splitKeys: positiveOr(settings.SPLIT_KEYS, defaults.splitKeys),
    splitBytes: positiveOr(settings.SPLIT_BYTES, defaults.splitBytes),
    splitWritesPerSecond: positiveOr(settings.SPLIT_WRITES_PER_SECOND, defaults.splitWritesPerSecond),
    mergeKeys: positiveOr(settings.MERGE_KEYS, defaults.mergeKeys),
  };
}

/** IDLE_AFTER_MS, or undefined (the load reporter's default) when absent or not a positive number. */
export function idleAfterMsOf(settings: BalanceSettings): number | undefined {
  const value = positiveOr(settings.IDLE_AFTER_MS, 0);
  return value > 0 ? value : undefined;
}

function positiveOr(text: string | undefined, fallback: number): number {
  const value = Number(text ?? "");
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
