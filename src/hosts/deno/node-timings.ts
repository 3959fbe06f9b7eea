/**
 * Where a Deno node's requests spend their time: per stage, how many times it ran and its total
 * milliseconds, reported by /internal/node so a benchmark can divide the difference of two
 * readings (the profile of a write at 64 clients is read from these, see docs/deno.md).
 */

/** The stages a node times. */
export type NodeStage =
  /** A public API request, from the handler's entry to its response object. */
  | "httpRequest"
  /** A replica call sent to another node over the transport, until its answer arrived. */
  | "forward"
  /** A replica call served here, until its answer was ready (proposal, commit, apply). */
  | "replicaWork"
  /** An answer ready here that waited for the WAL sync covering what was written before it. */
  | "answerSyncWait"
  /** A WAL fdatasync on the worker thread. */
  | "walSync"
  /** On the main thread: one driver pass of one replica (its engine step and its writes, in a savepoint). */
  | "pass"
  /** On the main thread: the COMMIT of a turn (its pages written to the WAL, and any checkpoint). */
  | "turnCommit"
  /** On the main thread: a frame of Raft batches from a peer decoded and stepped into its replicas (their passes included). */
  | "raftFrameIn"
  /** On the main thread: the batches and calls queued for a peer encoded and written to its socket. */
  | "frameOut";

/** Count and total milliseconds of one stage. */
export interface StageTotals {
  count: number;
  totalMs: number;
}

/** Totals of every stage since the node started. */
export class NodeTimings {
  readonly stages: Record<NodeStage, StageTotals> = {
    httpRequest: { count: 0, totalMs: 0 },
    forward: { count: 0, totalMs: 0 },
    replicaWork: { count: 0, totalMs: 0 },
    answerSyncWait: { count: 0, totalMs: 0 },
    walSync: { count: 0, totalMs: 0 },
    pass: { count: 0, totalMs: 0 },
    turnCommit: { count: 0, totalMs: 0 },
    raftFrameIn: { count: 0, totalMs: 0 },
    frameOut: { count: 0, totalMs: 0 },
  };

  /** Adds one run of `stage` that began at `startedMs` (performance.now()). */
  record(stage: NodeStage, startedMs: number): void {
    const totals = this.stages[stage];
    totals.count++;
    totals.totalMs += performance.now() - startedMs;
  }

  /** Times the promise `work` as one run of `stage`. */
  async time<T>(stage: NodeStage, work: Promise<T>): Promise<T> {
    const startedMs = performance.now();
    try {
      return await work;
    } finally {
      this.record(stage, startedMs);
    }
  }
}
