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
import { isMainThread } from "node:worker_threads";
import { multiGroupReplayCommand, multiGroupStepsDefault, runMultiGroup, type MultiGroupResult } from "../test/sim/multigroup-runner.ts";
import type { ReshapeFocus } from "../test/sim/saga-driver.ts";
import { describeCampaign, printFailures, runCampaign, runWorkerJob, type Simulator } from "./sim/campaign.ts";
import type { CampaignOptions } from "./sim/options.ts";

const simulator: Simulator<MultiGroupResult> = {
  name: "sim:multigroup",
  stepsDefault: multiGroupStepsDefault,
  flags: ["--stale-drivers"],
  script: import.meta.url,
  runSeed: (seed, options, trace) => runMultiGroup({ seed, steps: options.steps, trace, focus: focusOf(options) }),
  report,
};

function focusOf(options: CampaignOptions): ReshapeFocus {
  return options.flags.includes("--stale-drivers") ? { staleDrivers: true } : {};
}

/** The campaign's counts, summed over its seeds. */
function totalsOf(results: readonly MultiGroupResult[]) {
  const total = { operations: 0, sagasDone: 0, sagasRolledBack: 0, driverCrashes: 0, driverStalls: 0, racingRecords: 0, staleRoutes: 0, wrongRange: 0, movedToHints: 0, rangeFrozen: 0, faults: 0, groups: 0 };
  const crashesByPhase: Record<string, number> = {};
  const rolledBackReasons: Record<string, number> = {};
  const carried = { intents: 0, txnRecords: 0, sagasDone: 0 };
  const bank = { committed: 0, aborted: 0, died: 0, snapshots: 0, pushes: 0, scanSnapshots: 0 };
  for (const result of results) {
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
  }
  return { total, crashesByPhase, rolledBackReasons, carried, bank };
}

function report(results: MultiGroupResult[], options: CampaignOptions, seconds: number): number {
  const { total, crashesByPhase, rolledBackReasons, carried, bank } = totalsOf(results);
  const failures = printFailures(results, (result) => multiGroupReplayCommand(result.seed, result.steps, focusOf(options)));
  console.log(
    `${describeCampaign(simulator.name, results, options, failures)}, ` +
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

if (isMainThread) process.exitCode = await runCampaign(simulator, process.argv.slice(2));
else runWorkerJob(simulator);
