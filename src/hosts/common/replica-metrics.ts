/**
 * What one replica counts for GET /metrics since its object (or process) started: commands
 * applied, bytes of entries it replicated to followers, leader changes it saw, elections it
 * started and won, snapshots sent and installed, and histograms of commit latency (proposal to
 * commit known at the leader) and apply latency (proposal to applied at the leader). The runtime
 * feeds it from the driver's ports; hosts add what only they see (alarms fired). The notable ones
 * (election won, leader change, leader resumed from a quiet note, snapshot sent or installed) also
 * go to `notify`, for the logs.
 */
import type { Message, Role } from "../../raft/types.ts";

/** Upper bounds of the commit and apply latency buckets, in seconds (as the router's request histogram). */
export const replicaLatencyBucketsSeconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Proposals whose commit is awaited for the histogram at most (older ones are dropped from it). */
const pendingProposalsMax = 10_000;

/** A notable event and its fields (the runtime adds group, replica and term). */
export type ReplicaEventListener = (event: "electionWon" | "leaderChanged" | "leaderResumed" | "snapshotSent" | "snapshotInstalled", fields: Record<string, unknown>) => void;

/** Observations of one latency histogram: counts per bucket (not cumulative), sum and count. */
export interface LatencyHistogram {
  readonly bucketCounts: number[];
  sum: number;
  count: number;
}

/** The counters of one replica, as reported in its status. */
export interface ReplicaCounters {
  commandsApplied: number;
  bytesReplicated: number;
  leaderChanges: number;
  electionsStarted: number;
  electionsWon: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  alarmsFired: number;
  /** Starts that resumed the role and leader of a quiet note (no election, no leader change). */
  quietResumes: number;
}

/** A replica's counters and latency histograms. */
export interface ReplicaMetricsReport extends ReplicaCounters {
  readonly commitLatency: LatencyHistogram;
  readonly applyLatency: LatencyHistogram;
}

function emptyHistogram(): LatencyHistogram {
  return { bucketCounts: replicaLatencyBucketsSeconds.map(() => 0), sum: 0, count: 0 };
}

function observe(histogram: LatencyHistogram, seconds: number): void {
  const bucket = replicaLatencyBucketsSeconds.findIndex((bound) => seconds <= bound);
  if (bucket >= 0) histogram.bucketCounts[bucket]! += 1;
  histogram.sum += seconds;
  histogram.count += 1;
}

/** Counts one replica's events; `nowMs` is the host's clock. */
export class ReplicaMetrics {
  readonly counters: ReplicaCounters = {
    commandsApplied: 0, bytesReplicated: 0, leaderChanges: 0, electionsStarted: 0, electionsWon: 0, snapshotsSent: 0, snapshotsInstalled: 0, alarmsFired: 0, quietResumes: 0,
  };
  private readonly commitLatency = emptyHistogram();
  private readonly applyLatency = emptyHistogram();
  /** Log index → when it was proposed here, until it is committed (then until applied). */
  private readonly proposedAtMs = new Map<number, number>();
  private readonly committedWaiting = new Map<number, number>();
  private readonly nowMs: () => number;
  private role: Role | undefined;
  private leader = 0;
  private leaderTerm = 0;
  private readonly notify: ReplicaEventListener;

  constructor(nowMs: () => number, notify: ReplicaEventListener = () => undefined) {
    this.nowMs = nowMs;
    this.notify = notify;
  }

  /** A command was proposed here as entry `index`. */
  proposed(index: number): void {
    if (this.proposedAtMs.size >= pendingProposalsMax) return;
    this.proposedAtMs.set(index, this.nowMs());
  }

  /** The commit index known here is now `commit`: proposals up to it are committed. */
  committed(commit: number): void {
    if (this.proposedAtMs.size === 0) return;
    const now = this.nowMs();
    for (const [index, atMs] of this.proposedAtMs) {
      if (index > commit) continue;
      observe(this.commitLatency, (now - atMs) / 1000);
      this.proposedAtMs.delete(index);
      this.committedWaiting.set(index, atMs);
    }
  }

  /** Entry `index` was applied here; `command` is false for a no-op or a configuration change. */
  applied(index: number, command: boolean): void {
    if (command) this.counters.commandsApplied++;
    let atMs = this.committedWaiting.get(index);
    if (atMs === undefined) {
      // Committed and applied in one driver pass: its commit is observed now, as it is applied.
      atMs = this.proposedAtMs.get(index);
      if (atMs === undefined) return;
      this.proposedAtMs.delete(index);
      observe(this.commitLatency, (this.nowMs() - atMs) / 1000);
    }
    this.committedWaiting.delete(index);
    observe(this.applyLatency, (this.nowMs() - atMs) / 1000);
  }

  /** A snapshot from the leader was installed here. */
  snapshotInstalled(index: number): void {
    this.counters.snapshotsInstalled++;
    this.notify("snapshotInstalled", { index });
  }

  /** Messages this replica is sending: entries replicated and snapshots started. */
  sending(messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.type === "app") for (const entry of message.entries) this.counters.bytesReplicated += entry.data.byteLength;
      else if (message.type === "snap" && message.snapshot?.offset === 0) {
        this.counters.snapshotsSent++;
        this.notify("snapshotSent", { to: message.to, index: message.snapshot.meta.index, bytes: message.snapshot.totalBytes });
      }
    }
  }

  /**
   * The replica started from its quiet note as `role` with `leader` at `term` (hibernation or a
   * restart of a quiet group): a resume, neither an election won nor a leader change.
   */
  resumed(role: Role, leader: number, term: number): void {
    this.role = role;
    this.leader = leader;
    this.leaderTerm = term;
    this.counters.quietResumes++;
    this.notify("leaderResumed", { leader, role });
  }

  /** The engine's role or leader changed; `term` is the term now. A new leader, or the same one at a new term, is a leader change. */
  softState(role: Role, leader: number, term: number): void {
    if (role === "candidate" && this.role !== "candidate") this.counters.electionsStarted++;
    if (role === "leader" && this.role !== "leader") {
      this.counters.electionsWon++;
      this.notify("electionWon", {});
    }
    if (leader !== 0 && (leader !== this.leader || term !== this.leaderTerm)) {
      this.counters.leaderChanges++;
      this.notify("leaderChanged", { leader, previousLeader: this.leader });
      this.leader = leader;
      this.leaderTerm = term;
    }
    this.role = role;
    if (role !== "leader") {
      this.proposedAtMs.clear();
      this.committedWaiting.clear();
    }
  }

  /** The host's timer fired. */
  alarmFired(): void {
    this.counters.alarmsFired++;
  }

  /** Everything counted so far. */
  report(): ReplicaMetricsReport {
    return { ...this.counters, commitLatency: { ...this.commitLatency, bucketCounts: [...this.commitLatency.bucketCounts] }, applyLatency: { ...this.applyLatency, bucketCounts: [...this.applyLatency.bucketCounts] } };
  }
}
