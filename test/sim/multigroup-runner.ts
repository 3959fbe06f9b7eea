/**
 * Runs one seed of the multi-group world: a safety phase of `steps` global steps (clients, random
 * splits, merges and moves, every group's nemesis including the metadata group's, driver crashes
 * and stalls), a healing phase
 * (faults off, every saga driven to its end, every call finished), the final checks (the table
 * agrees with every group's ownership, nothing frozen or half installed, every replica of a group
 * holds the same state, a read of every key through the table) and the linearizability check of the
 * whole history. Any exception fails the seed.
 */
import { checkHistory, describeKeyFailure, describeSummary } from "../../src/checker/index.ts";
import { spansCover, spansOverlap, spanOf } from "../../src/kv/span.ts";
import { optionsFromSeed, describeOptions, type SimulationOptions } from "./options.ts";
import { MultiGroupInvariantError, MultiGroupWorld } from "./multigroup-world.ts";
import { MultiGroupWorkload } from "./multigroup-workload.ts";
import { BankWorkload, type BankStats } from "./bank-workload.ts";
import { Reshaper, type ReshapeFocus, type ReshapeStats } from "./saga-driver.ts";
import type { RoutingStats } from "./multigroup-workload.ts";
import type { TraceSink, World } from "./world.ts";
import { servesKey } from "../../src/kv/ownership.ts";
import { rangeInstallBytesMax } from "../../src/shared/limits.ts";

/** Global steps of the safety phase when none are given. */
export const multiGroupStepsDefault = 3000;

/** Search budget of the linearizability check per seed. */
const checkStepsMax = 200_000_000;

/** What one multi-group seed did, and whether it failed. */
export interface MultiGroupResult {
  seed: number;
  steps: number;
  failure: string | null;
  phase: "safety" | "healing" | "final" | "history" | null;
  settings: string;
  groups: number;
  reshape: ReshapeStats;
  routing: RoutingStats;
  bank: BankStats;
  faults: number;
}

/** Runs one seed; never throws for a failure of the system under test. */
export function runMultiGroup(request: { seed: number; steps: number; trace?: TraceSink; focus?: ReshapeFocus; bankTransferProcesses?: number }): MultiGroupResult {
  const options = multiGroupOptions(request.seed);
  const keysCount = Math.min(12, Math.max(6, options.workload.keysCount));
  const keys = Array.from({ length: keysCount }, (_, index) => `k${String(index).padStart(2, "0")}`);
  const third = Math.floor(keysCount / 3);
  const initial = [
    { name: "g1", spans: [spanOf("", keys[third]!)] },
    { name: "g2", spans: [spanOf(keys[third]!, keys[2 * third]!)] },
    { name: "g3", spans: [spanOf(keys[2 * third]!, undefined)] },
  ];
  let phase: MultiGroupResult["phase"] = "safety";
  let failure: string | null = null;
  let world: MultiGroupWorld | null = null;
  let workload: MultiGroupWorkload | null = null;
  let reshaper: Reshaper | null = null;
  let bank: BankWorkload | null = null;
  try {
    world = new MultiGroupWorld(options, keys, initial, request.trace ?? null);
    const w = world;
    workload = new MultiGroupWorkload(w, w.rng.fork(), options.workload);
    reshaper = new Reshaper(w, w.rng.fork(), request.focus);
    bank = new BankWorkload(w, w.rng.fork(), request.bankTransferProcesses === undefined ? {} : { transferProcesses: request.bankTransferProcesses });
    const clients = workload;
    const sagas = reshaper;
    const transfers = bank;
    w.log(`seed ${request.seed}: ${describeOptions(options)}`);
    w.onTick = () => {
      clients.onTick();
      sagas.onTick();
      transfers.onTick();
    };
    while (w.steps < request.steps) w.step();
    phase = "healing";
    w.heal();
    clients.paused = true;
    sagas.calm = true;
    transfers.paused = true;
    const ticksMax = options.electionTicks * 400;
    waitFor(w, "every saga to finish and every call to end", ticksMax, () => sagas.idle && !clients.busy);
    waitFor(w, "every transfer to end and the sweep to settle every intent and record", ticksMax, () => !transfers.busy && bankSettled(w));
    waitFor(w, "every group to apply its whole log on every replica", ticksMax, () => [...w.groups.values(), w.metadata].every((group) => groupSettled(group.world)));
    phase = "final";
    checkOwnership(w);
    transfers.checkBank();
    clients.readEveryKey();
    waitFor(w, "a read of every key", ticksMax, () => !clients.busy);
    phase = "history";
    failure = historyFailure(clients);
  } catch (error) {
    failure = error instanceof Error ? `${error.name}: ${error.message}\n${(error.stack ?? "").split("\n").slice(1, 7).join("\n")}` : String(error);
  }
  const groups = world === null ? [] : [...world.groups.values()];
  const faults = groups.reduce((sum, group) => {
    const stats = group.world.finishStats();
    return sum + stats.crashes + stats.messagesDropped + stats.messagesDuplicated + stats.messagesPartitioned;
  }, 0);
  return {
    seed: request.seed,
    steps: request.steps,
    failure,
    phase: failure === null ? null : phase,
    settings: describeOptions(options),
    groups: groups.length,
    reshape: reshaper?.stats ?? { operations: 0, sagasDone: 0, sagasRolledBack: 0, driverCrashes: {}, driverStalls: 0, racingRecords: 0, staleRoutes: 0, rolledBackReasons: {}, carriedIntents: 0, carriedTxnRecords: 0, sagasDoneCarryingTxns: 0 },
    routing: workload?.stats ?? { operations: 0, wrongRange: 0, movedToHints: 0, rangeFrozen: 0 },
    bank: bank?.stats ?? { committed: 0, aborted: 0, died: 0, snapshots: 0, pushes: 0, scanSnapshots: 0 },
    faults,
  };
}

/**
 * The seed's settings, with 3 replicas per group, no membership changes (not modelled across groups
 * yet), and room for one range install page among the uncommitted entries (a page may carry up to
 * rangeInstallBytesMax; a smaller limit refuses it as too large forever, as it would in production).
 */
function multiGroupOptions(seed: number): SimulationOptions {
  const options = optionsFromSeed(seed);
  const uncommittedBytesMax = Math.max(options.engine.uncommittedBytesMax, 2 * rangeInstallBytesMax);
  return {
    ...options,
    replicaCount: 3,
    engine: { ...options.engine, uncommittedBytesMax },
    nemesis: { ...options.nemesis, confChangeProbability: 0, crashedMax: Math.min(options.nemesis.crashedMax, 2) },
  };
}

/** No replica of any group holds an intent or a transaction record. */
function bankSettled(world: MultiGroupWorld): boolean {
  return [...world.groups.values()].every((group) => group.world.alive().every((replica) => {
    const held = replica.stateMachine?.transactions();
    return held !== undefined && held.intents.length === 0 && held.records.length === 0;
  }));
}

function groupSettled(world: World): boolean {
  const leader = world.leader();
  if (leader === undefined) return false;
  const status = leader.status();
  return status.commit === status.lastIndex && world.alive().length === world.ids().length && world.alive().every((replica) => replica.appliedIndex === status.commit);
}

/** The table agrees with every group's ownership; nothing is left frozen or half installed; replicas of a group agree. */
function checkOwnership(world: MultiGroupWorld): void {
  for (const group of world.groups.values()) {
    const replicas = group.world.alive();
    const first = replicas[0]!.stateMachine!;
    const ownership = first.ownership!;
    const expected = first.snapshot();
    for (const replica of replicas.slice(1)) {
      if (!sameBytes(replica.stateMachine!.snapshot(), expected)) throw new MultiGroupInvariantError(`replicas of ${group.name} hold different state`);
    }
    if (ownership.frozen.length > 0 || ownership.incoming.length > 0) {
      throw new MultiGroupInvariantError(`${group.name} still has frozen ${JSON.stringify(ownership.frozen)} or incoming ${JSON.stringify(ownership.incoming)} spans`);
    }
    for (const entry of world.table.value.ranges) {
      const span = spanOf(entry.start, entry.end);
      if (entry.group === group.name && !spansCover(ownership.spans, span)) throw new MultiGroupInvariantError(`the table gives ${JSON.stringify(span)} to ${group.name}, which does not own it`);
      if (entry.group !== group.name && ownership.spans.some((owned) => spansOverlap(owned, span))) {
        throw new MultiGroupInvariantError(`${group.name} owns part of ${JSON.stringify(span)}, which the table gives to ${entry.group}`);
      }
    }
    for (const record of first.scan({ limit: 1000 }).entries) {
      if (!servesKey(ownership, record.key)) {
        throw new MultiGroupInvariantError(`${group.name} stores ${record.key}, which it does not own`);
      }
    }
  }
}

function waitFor(world: MultiGroupWorld, what: string, ticksMax: number, done: () => boolean): void {
  const limit = world.now + ticksMax;
  const stepLimit = world.steps + ticksMax * 400;
  while (!done()) {
    if (world.now > limit || world.steps > stepLimit) throw new MultiGroupInvariantError(`waited ${ticksMax} ticks for ${what}`);
    world.step();
  }
}

function historyFailure(workload: MultiGroupWorkload): string | null {
  const result = checkHistory(workload.recorder.operations(), { stepsMax: checkStepsMax });
  if (result.outcome === "linearizable") return null;
  if (result.outcome === "unknown") return `linearizability check ran out of its budget: ${describeSummary(result)}`;
  const lines = [describeSummary(result)];
  for (const key of result.keys) if (key.outcome === "violation") lines.push(...describeKeyFailure(key));
  return lines.join("\n");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}

/** The command that replays a multi-group seed. */
export function multiGroupReplayCommand(seed: number, steps: number, focus: ReshapeFocus = {}): string {
  return `npm run sim:multigroup -- --seed ${seed}${steps === multiGroupStepsDefault ? "" : ` --steps ${steps}`}${focus.staleDrivers === true ? " --stale-drivers" : ""}`;
}
