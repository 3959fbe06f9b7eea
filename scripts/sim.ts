/**
 * The deterministic simulator's command line (TigerBeetle's VOPR, for edgeraft).
 *
 *   npm run sim -- --seed N [--steps S] [--verbose]     replay one seed (with an event trace)
 *   npm run sim -- --seeds K [--seed-start N] [--steps S] [--jobs J]   a campaign of K seeds
 *
 * Prints every failure with the command that replays it and a one-line campaign summary; exits 1
 * when any seed failed, 2 on bad usage. Seeds run in parallel worker threads (--jobs, default: the
 * machine's parallelism); results are printed in seed order, so output is deterministic.
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { replayCommand, runSimulation, stepsDefault, type RunResult } from "../test/sim/runner.ts";
import { addStats, describeStats, emptyStats, faultsCount } from "../test/sim/stats.ts";

const usage = "usage: npm run sim -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S]";

/** Parsed command line. */
interface Arguments {
  seedStart: number;
  seedsCount: number;
  steps: number;
  verbose: boolean;
  jobs: number;
}

/** Work handed to a worker thread: run these seeds. */
interface WorkerJob {
  seeds: number[];
  steps: number;
}

function parseArguments(list: readonly string[]): Arguments | string {
  const parsed: Arguments = { seedStart: 1, seedsCount: 1, steps: stepsDefault, verbose: false, jobs: Math.min(availableParallelism(), 8) };
  let single = false;
  for (let index = 0; index < list.length; index++) {
    const name = list[index]!;
    if (name === "--verbose") {
      parsed.verbose = true;
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
  let results: RunResult[];
  if (parsed.verbose) {
    results = [runSimulation({ seed: seeds[0]!, steps: parsed.steps, trace: (line) => console.log(line) })];
  } else if (parsed.jobs === 1 || seeds.length === 1) {
    results = seeds.map((seed) => runSimulation({ seed, steps: parsed.steps }));
  } else {
    results = await runInWorkers(seeds, parsed.steps, parsed.jobs);
  }
  return report(results, parsed, (performance.now() - started) / 1000);
}

function report(results: RunResult[], parsed: Arguments, seconds: number): number {
  const total = emptyStats();
  let failures = 0;
  for (const result of results.sort((a, b) => a.seed - b.seed)) {
    addStats(total, result.stats);
    if (result.failure === null) continue;
    failures++;
    console.log(`FAIL seed ${result.seed} in the ${result.phase} phase: ${result.failure}`);
    console.log(`  settings: ${result.settings}`);
    console.log(`  replay: ${replayCommand(result.seed, result.steps)}`);
  }
  if (results.length === 1) console.log(`seed ${results[0]!.seed}: ${describeStats(total)}`);
  const range = `seeds ${parsed.seedStart}..${parsed.seedStart + results.length - 1}`;
  console.log(
    `sim: ${results.length} seeds (${range}) x ${parsed.steps} steps, ${failures} failed, ${total.operations} ops, ` +
      `${faultsCount(total)} faults injected, ${seconds.toFixed(1)}s`,
  );
  if (results.length > 1) console.log(`  ${describeStats(total)}`);
  return failures === 0 ? 0 : 1;
}

/** Runs seeds on `jobs` worker threads, each taking every jobs-th seed. */
async function runInWorkers(seeds: number[], steps: number, jobs: number): Promise<RunResult[]> {
  const shares = Array.from({ length: Math.min(jobs, seeds.length) }, (_, job) => seeds.filter((_, index) => index % jobs === job));
  const runs = shares.map(
    (share) =>
      new Promise<RunResult[]>((resolve, reject) => {
        const job: WorkerJob = { seeds: share, steps };
        const worker = new Worker(new URL(import.meta.url), { workerData: job });
        worker.once("message", (results: RunResult[]) => resolve(results));
        worker.once("error", reject);
      }),
  );
  return (await Promise.all(runs)).flat();
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  const job = workerData as WorkerJob;
  parentPort!.postMessage(job.seeds.map((seed) => runSimulation({ seed, steps: job.steps })));
}
