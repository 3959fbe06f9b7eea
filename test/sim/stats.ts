/**
 * Counters of what a simulation run did (operations, faults, engine events), summed over a
 * campaign so that its one-line summary shows the simulator really exercised the engine.
 */

/** Everything counted in one run. */
export interface SimulationStats {
  steps: number;
  ticks: number;
  operations: number;
  operationsOk: number;
  operationsFailed: number;
  operationsUnknown: number;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  messagesPartitioned: number;
  partitions: number;
  crashes: number;
  restarts: number;
  /** Replicas whose disk was wiped, restarted empty and fenced (wipes campaigns only). */
  wipes: number;
  confChangesProposed: number;
  confChangesApplied: number;
  transfers: number;
  quietPeriods: number;
  quiescedLeaders: number;
  quiescedLeaderCrashes: number;
  leadersElected: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  snapshotChunks: number;
}

/** A record with every counter at zero. */
export function emptyStats(): SimulationStats {
  return {
    steps: 0,
    ticks: 0,
    operations: 0,
    operationsOk: 0,
    operationsFailed: 0,
    operationsUnknown: 0,
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    messagesPartitioned: 0,
    partitions: 0,
    crashes: 0,
    restarts: 0,
    wipes: 0,
    confChangesProposed: 0,
    confChangesApplied: 0,
    transfers: 0,
    quietPeriods: 0,
    quiescedLeaders: 0,
    quiescedLeaderCrashes: 0,
    leadersElected: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    snapshotChunks: 0,
  };
}

/** Adds every counter of `other` into `total`. */
export function addStats(total: SimulationStats, other: SimulationStats): void {
  for (const key of Object.keys(total) as (keyof SimulationStats)[]) total[key] += other[key];
}

/** Faults the nemesis and the network injected. */
export function faultsCount(stats: SimulationStats): number {
  return (
    stats.messagesDropped +
    stats.messagesDuplicated +
    stats.messagesPartitioned +
    stats.partitions +
    stats.crashes +
    stats.wipes +
    stats.confChangesProposed +
    stats.transfers +
    stats.quiescedLeaderCrashes
  );
}

/** The counters as `name value` pairs on one line. */
export function describeStats(stats: SimulationStats): string {
  return [
    `steps ${stats.steps}, ticks ${stats.ticks}`,
    `ops ${stats.operations} (ok ${stats.operationsOk}, fail ${stats.operationsFailed}, unknown ${stats.operationsUnknown})`,
    `messages ${stats.messagesSent} (dropped ${stats.messagesDropped}, duplicated ${stats.messagesDuplicated}, partitioned ${stats.messagesPartitioned})`,
    `partitions ${stats.partitions}, crashes ${stats.crashes}, restarts ${stats.restarts}${stats.wipes > 0 ? `, wiped disks ${stats.wipes}` : ""}`,
    `conf changes completed ${stats.confChangesApplied} of ${stats.confChangesProposed} proposed, transfers ${stats.transfers}, leaders elected ${stats.leadersElected}`,
    `quiet periods ${stats.quietPeriods}, quiesced leaders ${stats.quiescedLeaders} (crashed ${stats.quiescedLeaderCrashes})`,
    `snapshots taken ${stats.snapshotsTaken}, installed ${stats.snapshotsInstalled}, chunks ${stats.snapshotChunks}`,
  ].join("; ");
}
