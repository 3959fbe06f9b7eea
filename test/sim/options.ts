/**
 * The settings of one simulation run, all drawn from its seed: group size, timing, fault
 * probabilities and workload mix. One seed decides everything, so one seed replays one run.
 */
import { createRng, type Rng } from "../../src/shared/rng.ts";
import { appendBytesMax, inflightMessagesMax, uncommittedBytesMax } from "../../src/shared/limits.ts";
import type { EngineSettings } from "./replica.ts";

/** Probabilities and bounds of the network faults. */
export interface NetworkFaults {
  /** Chance that a sent message is lost. */
  dropProbability: number;
  /** Chance that a sent message is delivered twice (each copy with its own delay). */
  duplicateProbability: number;
  /** A message is delivered within this many ticks after it is sent (random delays reorder). */
  delayTicksMax: number;
  /** Chance that a message is a straggler, delayed by up to stragglerTicksMax more (beyond any timeout). */
  stragglerProbability: number;
  stragglerTicksMax: number;
  /** Chance per step of advancing time although messages are due (slow processing). */
  tickProbability: number;
  /** Chance that a message lost to a partition or a crash is reported to its sender as unreachable. */
  unreachableReportProbability: number;
  /** Chance per tick that a replica's clock misses the tick (bounded drift; see World). */
  tickSkipProbability: number;
}

/** Per-tick probabilities of the nemesis's actions during the safety phase. */
export interface NemesisSettings {
  partitionProbability: number;
  healProbability: number;
  crashProbability: number;
  restartProbability: number;
  /** Most replicas down at once. */
  crashedMax: number;
  confChangeProbability: number;
  transferProbability: number;
  /** Chance per tick of starting a quiet period (no client traffic, so the group may quiesce). */
  quietProbability: number;
  /** Length of a quiet period, in ticks. */
  quietTicks: number;
  /** Chance that a quiet period also calms the network (heals it and stops random loss). */
  calmProbability: number;
  /** Chance, at each send or apply of a Ready, that the host dies right there. */
  midReadyCrashProbability: number;
  /** Chance of crashing a leader one tick after it was elected. */
  newLeaderCrashProbability: number;
  /** Chance per tick, while the leader is quiesced, of crashing it. */
  quiescedLeaderCrashProbability: number;
  /** Chance per tick of wiping a replica's disk (0 unless the run asks for wipes: runSimulation's `wipes`). */
  wipeProbability: number;
}

/** What the clients do. */
export interface WorkloadSettings {
  clientsCount: number;
  keysCount: number;
  /** Relative weights of reads, writes, deletes and compare-and-sets. */
  readWeight: number;
  writeWeight: number;
  deleteWeight: number;
  casWeight: number;
  /** Chance that a read asks for a lease read instead of a ReadIndex round. */
  leaseReadProbability: number;
  /** Most ticks a client waits between two operations. */
  thinkTicksMax: number;
  /** Ticks a client waits for an answer before it retries. */
  requestTimeoutTicks: number;
  /** Retries before the client gives up and records the outcome as unknown. */
  retriesMax: number;
  /** Bytes of padding after each written value (large in some seeds so snapshots are chunked). */
  valuePaddingBytes: number;
  /** Chance that a client is connected to one replica rather than following leader hints. */
  homeProbability: number;
}

/** Everything one seed decides. */
export interface SimulationOptions {
  seed: number;
  replicaCount: number;
  electionTicks: number;
  /** Engine settings (electionTicks repeated there); PreVote and CheckQuorum are off in a few seeds. */
  engine: EngineSettings;
  /** The driver snapshots and compacts after this many applied entries. */
  snapshotEntries: number;
  network: NetworkFaults;
  nemesis: NemesisSettings;
  workload: WorkloadSettings;
}

/** Milliseconds of the clients' wall clock per tick (only sessions look at it). */
export const tickMs = 10;

/** Draws every setting of a run from `seed`. */
export function optionsFromSeed(seed: number): SimulationOptions {
  const rng = createRng(seed);
  const replicaCount = rng.chance(0.5) ? 3 : 5;
  const electionTicks = 6 + rng.int(10);
  const heartbeatTicks = 1 + rng.int(Math.min(3, electionTicks - 1));
  const bigValues = rng.chance(0.15);
  const checkQuorum = rng.chance(0.8);
  const workload = workloadSettings(rng, electionTicks, bigValues);
  return {
    seed,
    replicaCount,
    electionTicks,
    engine: {
      electionTicks,
      heartbeatTicks,
      preVote: rng.chance(0.9),
      checkQuorum,
      leaseReads: checkQuorum && workload.leaseReadProbability > 0,
      ...engineLimits(rng, workload.valuePaddingBytes),
    },
    snapshotEntries: pick(rng, [20, 30, 50, 80, 120, 200]),
    network: networkFaults(rng, electionTicks),
    nemesis: nemesisSettings(rng, replicaCount, electionTicks),
    workload,
  };
}

/**
 * Flow-control limits: the defaults in most seeds, tiny ones in some, so that batching by bytes,
 * a full inflight window and proposal backpressure ("busy") are exercised too.
 */
function engineLimits(rng: Rng, valuePaddingBytes: number): Pick<EngineSettings, "appendBytesMax" | "inflightMessagesMax" | "uncommittedBytesMax"> {
  const small = rng.chance(0.3);
  return {
    appendBytesMax: small ? pick(rng, [1, 512, 4096, 2 * valuePaddingBytes]) : appendBytesMax,
    inflightMessagesMax: small ? pick(rng, [1, 2, 8]) : inflightMessagesMax,
    uncommittedBytesMax: small ? Math.max(2048, 3 * valuePaddingBytes) : uncommittedBytesMax,
  };
}

function networkFaults(rng: Rng, electionTicks: number): NetworkFaults {
  return {
    dropProbability: rarelyZero(rng, [0.005, 0.02, 0.05, 0.1, 0.2]),
    duplicateProbability: rarelyZero(rng, [0.005, 0.02, 0.05, 0.1]),
    // Raft needs the round trip well below the election timeout (thesis 3.6); delays near the
    // timeout keep elections failing forever, which tests nothing.
    delayTicksMax: pick(rng, [0, 1, 2, Math.floor(electionTicks / 3)]),
    stragglerProbability: pick(rng, [0, 0, 0.001, 0.005]),
    stragglerTicksMax: electionTicks * 3,
    tickProbability: pick(rng, [0.02, 0.05, 0.1, 0.3]),
    unreachableReportProbability: pick(rng, [0, 0.3, 1]),
    tickSkipProbability: pick(rng, [0, 0.02, 0.2]),
  };
}

function nemesisSettings(rng: Rng, replicaCount: number, electionTicks: number): NemesisSettings {
  return {
    partitionProbability: rarelyZero(rng, [0.002, 0.005, 0.01, 0.03]),
    healProbability: pick(rng, [0.01, 0.03, 0.08]),
    crashProbability: rarelyZero(rng, [0.002, 0.005, 0.01, 0.03]),
    restartProbability: pick(rng, [0.02, 0.05, 0.15]),
    crashedMax: 1 + rng.int(replicaCount),
    confChangeProbability: rarelyZero(rng, [0.003, 0.01, 0.03]),
    transferProbability: rarelyZero(rng, [0.003, 0.01, 0.03]),
    quietProbability: pick(rng, [0.001, 0.003, 0.006]),
    quietTicks: electionTicks * (3 + rng.int(6)),
    calmProbability: pick(rng, [0.3, 0.7, 1]),
    quiescedLeaderCrashProbability: pick(rng, [0.05, 0.2, 0.5]),
    newLeaderCrashProbability: pick(rng, [0, 0.1, 0.3]),
    midReadyCrashProbability: pick(rng, [0, 0.0005, 0.002]),
    wipeProbability: 0,
  };
}

function workloadSettings(rng: Rng, electionTicks: number, bigValues: boolean): WorkloadSettings {
  const clientsCount = 3 + rng.int(10);
  // At most about four clients per key: the linearizability search grows steeply with the number
  // of concurrent writes of unknown outcome on one key.
  const keysCount = Math.max(bigValues ? 8 + rng.int(5) : 1 + rng.int(6), Math.ceil(clientsCount / 4));
  return {
    clientsCount,
    keysCount,
    readWeight: 1 + rng.int(4),
    writeWeight: (bigValues ? 4 : 1) + rng.int(4),
    deleteWeight: rng.int(2),
    casWeight: rng.int(4),
    leaseReadProbability: pick(rng, [0, 0, 0.3, 1]),
    thinkTicksMax: rng.int(4),
    requestTimeoutTicks: electionTicks * (1 + rng.int(3)),
    retriesMax: 1 + rng.int(4),
    valuePaddingBytes: bigValues ? 30_000 + rng.int(20_000) : rng.int(4) * 16,
    homeProbability: pick(rng, [0, 0.5, 1]),
  };
}

/** One element of `choices`, uniformly. */
export function pick<T>(rng: Rng, choices: readonly T[]): T {
  const choice = choices[rng.int(choices.length)];
  if (choice === undefined) throw new Error("pick from an empty list");
  return choice;
}

/** One of `choices`, or 0 in one seed out of ten (so every fault is also seen alone being absent). */
function rarelyZero(rng: Rng, choices: readonly number[]): number {
  return rng.chance(0.1) ? 0 : pick(rng, choices);
}

/**
 * The chance per tick of wiping a disk in a run with wipes, drawn from its own stream of the seed
 * so that every other setting stays what the seed gives without wipes.
 */
export function wipeProbabilityOf(seed: number): number {
  return pick(createRng(seed ^ 0x3195), [0.001, 0.003, 0.01]);
}

/** A one-line description of the settings, for traces and failure reports. */
export function describeOptions(options: SimulationOptions): string {
  const { network, nemesis, workload } = options;
  return [
    `replicas ${options.replicaCount}, election ${options.electionTicks} ticks, heartbeat ${options.engine.heartbeatTicks}, preVote ${options.engine.preVote}, checkQuorum ${options.engine.checkQuorum}, snapshot every ${options.snapshotEntries}`,
    `limits append ${options.engine.appendBytesMax}B inflight ${options.engine.inflightMessagesMax} uncommitted ${options.engine.uncommittedBytesMax}B`,
    `network drop ${network.dropProbability} duplicate ${network.duplicateProbability} delay<=${network.delayTicksMax} stragglers ${network.stragglerProbability} tick skips ${network.tickSkipProbability}`,
    `nemesis partition ${nemesis.partitionProbability} crash ${nemesis.crashProbability} (max ${nemesis.crashedMax}) conf ${nemesis.confChangeProbability} transfer ${nemesis.transferProbability} quiet ${nemesis.quietProbability}${nemesis.wipeProbability > 0 ? ` wipe ${nemesis.wipeProbability}` : ""}`,
    `clients ${workload.clientsCount} keys ${workload.keysCount} mix r${workload.readWeight}/w${workload.writeWeight}/d${workload.deleteWeight}/c${workload.casWeight} lease ${workload.leaseReadProbability} padding ${workload.valuePaddingBytes}B`,
  ].join("; ");
}
