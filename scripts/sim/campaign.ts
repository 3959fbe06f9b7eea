/**
 * Runs what a simulator script's command line asks for: bad usage exits 2 with the usage line; one
 * seed with --verbose prints its trace; otherwise the seeds run in this thread (--jobs 1 or one
 * seed) or on worker threads that start the script again, and the script reports them in seed
 * order, so its output is deterministic.
 */
import { parentPort, Worker, workerData } from "node:worker_threads";
import { parseCampaignOptions, usageOf, type CampaignOptions, type SimulatorCommand } from "./options.ts";

/** What a campaign needs of every seed's result. */
export interface SeedOutcome {
  seed: number;
  steps: number;
  /** Null when the seed passed. */
  failure: string | null;
  phase: string | null;
  /** The seed's settings, for the failure report. */
  settings: string;
}

/** One simulator as a script runs it. */
export interface Simulator<Result extends SeedOutcome> extends SimulatorCommand {
  /** The script's own module (its import.meta.url): each worker thread runs it again. */
  script: string;
  /** Runs one seed; `trace` receives its event trace when given. */
  runSeed(seed: number, options: CampaignOptions, trace?: (line: string) => void): Result;
  /** Prints the campaign's results (in seed order) and returns the exit code. */
  report(results: Result[], options: CampaignOptions, seconds: number): number;
}

/** Work handed to a worker thread: run these seeds. */
interface WorkerJob {
  seeds: number[];
  options: CampaignOptions;
}

/** Runs the command line of the main thread; returns the process's exit code. */
export async function runCampaign<Result extends SeedOutcome>(simulator: Simulator<Result>, list: readonly string[]): Promise<number> {
  const options = parseCampaignOptions(simulator, list);
  if (typeof options === "string") {
    console.error(options);
    console.error(usageOf(simulator));
    return 2;
  }
  const started = performance.now();
  const seeds = Array.from({ length: options.seedsCount }, (_, index) => options.seedStart + index);
  let results: Result[];
  if (options.verbose) results = [simulator.runSeed(seeds[0]!, options, (line) => console.log(line))];
  else if (options.jobs === 1 || seeds.length === 1) results = seeds.map((seed) => simulator.runSeed(seed, options));
  else results = await runInWorkers<Result>(simulator.script, seeds, options);
  return simulator.report(results.sort((a, b) => a.seed - b.seed), options, (performance.now() - started) / 1000);
}

/** In a worker thread started by runCampaign: runs its seeds and posts their results back. */
export function runWorkerJob<Result extends SeedOutcome>(simulator: Simulator<Result>): void {
  const job = workerData as WorkerJob;
  parentPort!.postMessage(job.seeds.map((seed) => simulator.runSeed(seed, job.options)));
}

/** Prints each failed seed with its settings and the command that replays it; returns how many failed. */
export function printFailures(results: readonly SeedOutcome[], replayCommand: (result: SeedOutcome) => string): number {
  let failures = 0;
  for (const result of results) {
    if (result.failure === null) continue;
    failures++;
    console.log(`FAIL seed ${result.seed} in the ${result.phase} phase: ${result.failure}`);
    console.log(`  settings: ${result.settings}`);
    console.log(`  replay: ${replayCommand(result)}`);
  }
  return failures;
}

/** The start of a campaign's summary line: the seeds, their steps and how many failed. */
export function describeCampaign(name: string, results: readonly SeedOutcome[], options: CampaignOptions, failures: number): string {
  const range = `seeds ${options.seedStart}..${options.seedStart + results.length - 1}`;
  return `${name}: ${results.length} seeds (${range}) x ${options.steps} steps, ${failures} failed`;
}

/** Runs seeds on options.jobs worker threads, each taking every jobs-th seed. */
async function runInWorkers<Result>(script: string, seeds: number[], options: CampaignOptions): Promise<Result[]> {
  const jobs = options.jobs;
  const shares = Array.from({ length: Math.min(jobs, seeds.length) }, (_, job) => seeds.filter((_, index) => index % jobs === job));
  const runs = shares.map(
    (share) =>
      new Promise<Result[]>((resolve, reject) => {
        const worker = new Worker(new URL(script), { workerData: { seeds: share, options } satisfies WorkerJob });
        worker.once("message", (results: Result[]) => resolve(results));
        worker.once("error", reject);
      }),
  );
  return (await Promise.all(runs)).flat();
}
