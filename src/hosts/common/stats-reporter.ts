/**
 * A replica's reports to the stats aggregate that GET /metrics reads (DESIGN.md, "Observability
 * at scale"): a scrape reads the aggregate and never asks the replicas, so it wakes no idle group.
 * A replica reports when its role, leader, term or quiesced state changes, and otherwise at most
 * once per `intervalMs` while something moved (commit, applied, counters); a quiet replica has
 * sent its last report when it quiesced and sends nothing more until it is used again.
 */

/** What a replica reports: its status (with counters and histograms) and its Raft traffic. */
export interface ReplicaReport {
  readonly group: string;
  readonly replica: number;
  /** The replica's locationHint ("" when unknown). */
  readonly location: string;
  /** The group was removed: the scrape leaves this replica out. */
  readonly retired: boolean;
  /** The replica's clock when it reported, in milliseconds since the epoch. */
  readonly atMs: number;
  readonly status: {
    readonly role: string; readonly term: number; readonly leader: number; readonly commit: number; readonly applied: number;
    readonly firstIndex: number; readonly lastIndex: number; readonly quiesced: boolean; readonly metrics?: unknown;
  } & Record<string, unknown>;
  readonly traffic: unknown;
}

/** Least time between two reports of one replica when only progress changed, in milliseconds. */
export const statsReportIntervalMs = 2_000;

/** Decides when one replica reports. */
export class StatsReporter {
  private lastShape = "";
  private lastProgress = "";
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private readonly take: () => Omit<ReplicaReport, "atMs"> | undefined;
  private readonly send: (report: ReplicaReport) => void;
  private readonly nowMs: () => number;

  /** `take` reads the replica's current report (undefined before it has a runtime). */
  constructor(options: { take: () => Omit<ReplicaReport, "atMs"> | undefined; send: (report: ReplicaReport) => void; nowMs: () => number }) {
    this.take = options.take;
    this.send = options.send;
    this.nowMs = options.nowMs;
  }

  /** Called after every event the replica handled: sends a report when one is due. */
  maybeReport(): void {
    const report = this.take();
    if (report === undefined) return;
    const { role, term, leader, quiesced, commit, applied } = report.status;
    const shape = `${role} ${term} ${leader} ${quiesced} ${report.retired}`;
    const progress = `${commit} ${applied} ${JSON.stringify(report.status.metrics ?? null)}`;
    const now = this.nowMs();
    const changed = shape !== this.lastShape;
    if (!changed && (progress === this.lastProgress || now - this.lastAtMs < statsReportIntervalMs)) return;
    this.lastShape = shape;
    this.lastProgress = progress;
    this.lastAtMs = now;
    this.send({ ...report, atMs: now });
  }
}
