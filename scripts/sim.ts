/**
 * The deterministic simulator's command line (TigerBeetle's VOPR, for edgeraft).
 *
 *   npm run sim -- --seed N [--steps S] [--verbose]     replay one seed (with an event trace)
 *   npm run sim -- --seeds K [--seed-start N] [--steps S] [--jobs J]   a campaign of K seeds
 *   ... --wipes                                          the nemesis also wipes disks (replicas restart empty, fenced, recovering)
 *
 * Prints every failure with the command that replays it and a one-line campaign summary; exits 1
 * when any seed failed, 2 on bad usage. Seeds run in parallel worker threads (--jobs, default: the
 * machine's parallelism); results are printed in seed order, so output is deterministic.
 */
import { isMainThread } from "node:worker_threads";
import { replayCommand, runSimulation, stepsDefault, type RunResult } from "../test/sim/runner.ts";
import { addStats, describeStats, emptyStats, faultsCount } from "../test/sim/stats.ts";
import { describeCampaign, printFailures, runCampaign, runWorkerJob, type Simulator } from "./sim/campaign.ts";
import type { CampaignOptions } from "./sim/options.ts";

const simulator: Simulator<RunResult> = {
  name: "sim",
  stepsDefault,
  flags: ["--wipes"],
  script: import.meta.url,
  runSeed: (seed, options, trace) => runSimulation({ seed, steps: options.steps, trace, wipes: options.flags.includes("--wipes") }),
  report,
};

function report(results: RunResult[], options: CampaignOptions, seconds: number): number {
  const total = emptyStats();
  for (const result of results) addStats(total, result.stats);
  const failures = printFailures(results, (result) => replayCommand(result.seed, result.steps, options.flags.includes("--wipes")));
  if (results.length === 1) console.log(`seed ${results[0]!.seed}: ${describeStats(total)}`);
  console.log(`${describeCampaign(simulator.name, results, options, failures)}, ${total.operations} ops, ${faultsCount(total)} faults injected, ${seconds.toFixed(1)}s`);
  if (results.length > 1) console.log(`  ${describeStats(total)}`);
  return failures === 0 ? 0 : 1;
}

if (isMainThread) process.exitCode = await runCampaign(simulator, process.argv.slice(2));
else runWorkerJob(simulator);
