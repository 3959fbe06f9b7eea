/**
 * The multi-group simulator's command line: several Raft groups, random splits, merges and moves
 * as sagas under a concurrent workload and every fault kind (test/sim/multigroup-runner.ts).
 *
 *   npm run sim:multigroup -- --seed N [--steps S] [--verbose]     replay one seed (with a trace)
 *   npm run sim:multigroup -- --seeds K [--seed-start N] [--steps S] [--jobs J]   a campaign
 *
 * `--stale-drivers` (with either) stalls most saga drivers right after their route step, for long,
 * so that many wake after their span moved on (test/sim/saga-driver.ts, ReshapeFocus).
 *
 * Prints every failure with the command that replays it and a summary; exits 1 when a seed failed,
 * 2 on bad usage. Seeds run in worker threads; results are printed in seed order.
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { multiGroupReplayCommand, multiGroupStepsDefault, runMultiGroup, type MultiGroupResult } from "../test/sim/multigroup-runner.ts";
import type { ReshapeFocus } from "../test/sim/saga-driver.ts";

const usage = "usage: npm run sim:multigroup -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S] [--stale-drivers]";

/** Work handed to a worker thread. */
interface WorkerJob {
  seeds: number[];
  steps: number;
  focus: ReshapeFocus;
}

function parseArguments(list: readonly string[]): { seedStart: number; seedsCount: number; steps: number; verbose: boolean; jobs: number; focus: ReshapeFocus } | string {
  const parsed = { seedStart: 1, seedsCount: 1, steps: multiGroupStepsDefault, verbose: false, jobs: Math.min(availableParallelism(), 8), focus: {} as ReshapeFocus };
  let single = false;
  for (let index = 0; index < list.length; index++) {
    const name = list[index]!;
    if (name === "--verbose") {
      parsed.verbose = true;
      continue;
    }
    if (name === "--stale-drivers") {
      parsed.focus = { staleDrivers: true };
      continue;
    }
    if (!["--seed", "--seed-start", "--seeds", "--steps", "--jobs"].includes(name)) return `unknown option ${name}`;
    const value = Number(list[++index]);
    if (!Number.isSafeInteger(value) || value < 0) return `${name} needs a non-negative integer`;
    if (name === "--seed") {
      parsed.seedStart = value;
      single = true;
    } else if (name === "--seed-start") parsed.seedStart = value;
    else if (name === "--seeds") parsed.seedsCount = value;
    else if (name === "--steps") parsed.steps = value;
    else parsed.jobs = Math.max(1, value);
  }
  if (single) parsed.seedsCount = 1;
  if (parsed.verbose && parsed.seedsCount !== 1) return "--verbose traces one seed: use it with --seed";
  return parsed;
}

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(parsed);
    console.error(usage);
    return 2;
  }
  const started = performance.now();
  const seeds = Array.from({ length: parsed.seedsCount }, (_, index) => parsed.seedStart + index);
  let results: MultiGroupResult[];
  const focus = parsed.focus;
  if (parsed.verbose) results = [runMultiGroup({ seed: seeds[0]!, steps: parsed.steps, trace: (line) => console.log(line), focus })];
  else if (parsed.jobs === 1 || seeds.length === 1) results = seeds.map((seed) => runMultiGroup({ seed, steps: parsed.steps, focus }));
  else results = await runInWorkers(seeds, parsed.steps, parsed.jobs, focus);
  let failures = 0;
  const total = { operations: 0, sagasDone: 0, sagasRolledBack: 0, driverCrashes: 0, driverStalls: 0, racingRecords: 0, staleRoutes: 0, wrongRange: 0, movedToHints: 0, rangeFrozen: 0, faults: 0, groups: 0 };
  const crashesByPhase: Record<string, number> = {};
  const rolledBackReasons: Record<string, number> = {};
  const carried = { intents: 0, txnRecords: 0, sagasDone: 0 };
  const bank = { committed: 0, aborted: 0, died: 0, snapshots: 0, pushes: 0, scanSnapshots: 0 };
  for (const result of results.sort((a, b) => a.seed - b.seed)) {
    total.operations += result.routing.operations;
    total.wrongRange += result.routing.wrongRange;
    total.movedToHints += result.routing.movedToHints;
    total.rangeFrozen += result.routing.rangeFrozen;
    total.sagasDone += result.reshape.sagasDone;
    total.sagasRolledBack += result.reshape.sagasRolledBack;
    total.driverStalls += result.reshape.driverStalls;
    total.racingRecords += result.reshape.racingRecords;
    total.staleRoutes += result.reshape.staleRoutes;
    total.faults += result.faults;
    total.groups += result.groups;
    for (const field of Object.keys(bank) as (keyof typeof bank)[]) bank[field] += result.bank[field];
    for (const [reason, count] of Object.entries(result.reshape.rolledBackReasons)) rolledBackReasons[reason] = (rolledBackReasons[reason] ?? 0) + count;
    carried.intents += result.reshape.carriedIntents;
    carried.txnRecords += result.reshape.carriedTxnRecords;
    carried.sagasDone += result.reshape.sagasDoneCarryingTxns;
    for (const [phase, count] of Object.entries(result.reshape.driverCrashes)) {
      crashesByPhase[phase] = (crashesByPhase[phase] ?? 0) + count;
      total.driverCrashes += count;
    }
    if (result.failure === null) continue;
    failures++;
    console.log(`FAIL seed ${result.seed} in the ${result.phase} phase: ${result.failure}`);
    console.log(`  settings: ${result.settings}`);
    console.log(`  replay: ${multiGroupReplayCommand(result.seed, result.steps, focus)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `sim:multigroup: ${results.length} seeds (seeds ${parsed.seedStart}..${parsed.seedStart + results.length - 1}) x ${parsed.steps} steps, ${failures} failed, ` +
      `${total.operations} client ops, ${total.sagasDone} sagas done, ${total.sagasRolledBack} rolled back, ${total.groups} groups, ${seconds.toFixed(1)}s`,
  );
  console.log(
    `  driver crashes ${total.driverCrashes} (${Object.entries(crashesByPhase).map(([phase, count]) => `${phase} ${count}`).join(", ")}), stalls ${total.driverStalls}, ` +
      `lost record races ${total.racingRecords}, stale routes ${total.staleRoutes}; wrongRange ${total.wrongRange} (movedTo hints ${total.movedToHints}), rangeFrozen ${total.rangeFrozen}; replica and network faults ${total.faults}`,
  );
  console.log(`  rolled back: ${Object.entries(rolledBackReasons).map(([reason, count]) => `${count} ${reason}`).join("; ") || "none"}`);
  console.log(`  transactions moved: ${carried.intents} intents and ${carried.txnRecords} records in installed pages; ${carried.sagasDone} sagas committed carrying them`);
  console.log(`  bank: ${bank.committed} transfers committed, ${bank.aborted} aborted, ${bank.died} abandoned mid-transaction, ${bank.snapshots} snapshot reads, ${bank.scanSnapshots} by scans, ${bank.pushes} pushes`);
  return failures === 0 ? 0 : 1;
}

async function runInWorkers(seeds: number[], steps: number, jobs: number, focus: ReshapeFocus): Promise<MultiGroupResult[]> {
  const shares = Array.from({ length: Math.min(jobs, seeds.length) }, (_, job) => seeds.filter((_, index) => index % jobs === job));
  const runs = shares.map(
    (share) =>
      new Promise<MultiGroupResult[]>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { seeds: share, steps, focus } satisfies WorkerJob });
        worker.once("message", (results: MultiGroupResult[]) => resolve(results));
        worker.once("error", reject);
      }),
  );
  return (await Promise.all(runs)).flat();
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  const job = workerData as WorkerJob;
  parentPort!.postMessage(job.seeds.map((seed) => runMultiGroup({ seed, steps: job.steps, focus: job.focus })));
}
