/**
 * Runs the benchmark: starts each runtime (Miniflare, then wrangler dev; never both at once on a
 * 2-core machine), creates the scenarios' groups through the public API, measures round trips and
 * every cell, and stops the runtime again.
 *
 * The machine is noisy (its disk flush time alone varies tenfold from minute to minute), so cells
 * that a ratio compares are measured side by side: for each operation and concurrency the
 * scenarios run back to back, in rounds of alternating order (a b c4 c16, then c16 c4 b a), and
 * each cell adds up its rounds. Drift over the minutes then falls on both sides of every ratio.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { runClosedLoop, type LoadOutcome } from "../../src/hosts/cloudflare/bench-load.ts";
import { createScenarioGroups, httpOperation, pingReplica, runInRuntime, type Endpoint, type RuntimeLoad } from "./api.ts";
import { onCleanup } from "./cleanup.ts";
import { bundleWorker } from "./bundle.ts";
import { startMiniflare, type MiniflareHost } from "./miniflare-host.ts";
import type { BenchOptions } from "./options.ts";
import { cellOf, mergeOutcomes, operations, round, type BenchRun, type Cell, type Mode, type Operation } from "./results.ts";
import { runReshape } from "./reshape.ts";
import { runTxnBench } from "./txn.ts";
import { prefixesOf, scenarios, type Scenario } from "./scenarios.ts";
import { startWrangler } from "./wrangler-host.ts";

/** The admin token of the runtimes the benchmark starts (they listen on loopback only). */
const benchAdminToken = "bench-admin-token";

/** Progress lines go here (stderr), so stdout carries only the report. */
type Log = (line: string) => void;

/** Runs every selected mode and returns the whole run. */
export async function runBenchmark(options: BenchOptions, command: string, log: Log): Promise<BenchRun> {
  const run: BenchRun = {
    schema: 1,
    command,
    quick: options.quick,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    machine: { cpus: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    settings: {
      valueBytes: options.valueBytes,
      keysPerPrefix: options.keysPerPrefix,
      cellDurationMs: options.cellDurationMs,
      rounds: options.rounds,
      cellOperationsMax: options.cellOperationsMax,
      concurrencies: options.concurrencies,
      modes: options.modes,
    },
    source: { commit: "unknown", uncommittedSourceFiles: -1 },
    runtimes: [],
    roundTrips: { workerToObject: [] },
    cells: [],
  };
  const directory = mkdtempSync(join(tmpdir(), "edgeraft-bench-"));
  const unregister = onCleanup("temporary directory", async () => rmSync(directory, { recursive: true, force: true }));
  try {
    const bundle = await bundleWorker(join(directory, "bundle"));
    run.source = bundle.source;
    log(`bundled the Worker at commit ${bundle.source.commit} (${bundle.source.uncommittedSourceFiles} uncommitted files under src/)`);
    const miniflareModes = options.modes.filter((mode) => mode.endsWith("-miniflare"));
    const wranglerModes = options.modes.filter((mode) => mode.endsWith("-wrangler"));
    if (miniflareModes.length > 0) {
      log("starting Miniflare");
      const host = await startMiniflare({ bundle, stateDirectory: join(directory, "miniflare-state"), adminToken: benchAdminToken });
      run.runtimes.push({ name: "miniflare", workerdVersion: host.workerdVersion, compatibilityDate: host.compatibilityDate });
      const endpoint = { url: host.url, token: benchAdminToken };
      if (options.txnOnly) {
        await measureTxn(endpoint, "Miniflare", options, run, log);
        await host.stop();
        run.finishedAt = new Date().toISOString();
        return run;
      }
      await setUp(endpoint, "miniflare", options, run, log);
      const before = await objectRoundTrips(host, options.pingCount);
      await measureCells(endpoint, miniflareModes, options, run, log);
      await measureTxn(endpoint, "Miniflare", options, run, log);
      const after = await objectRoundTrips(host, options.pingCount);
      run.roundTrips.objectToObject = {
        emptyMs: round((before.emptyMs + after.emptyMs) / 2),
        withWriteMs: round((before.withWriteMs + after.withWriteMs) / 2),
        samplesWithWriteMs: [round(before.withWriteMs), round(after.withWriteMs)],
        count: options.pingCount,
        writeStep: {
          soloMs: round((before.soloStepMs + after.soloStepMs) / 2),
          replicatedMs: round((before.replicatedStepMs + after.replicatedStepMs) / 2),
        },
      };
      await host.stop();
    }
    if (wranglerModes.length > 0) {
      log("starting wrangler dev");
      const host = await startWrangler({ bundle, persistDirectory: join(directory, "wrangler-state"), adminToken: benchAdminToken });
      run.runtimes.push({ name: "wrangler dev", workerdVersion: host.workerdVersion });
      const endpoint = { url: host.url, token: benchAdminToken };
      if (options.txnOnly) {
        await measureTxn(endpoint, "wrangler dev", options, run, log);
        await host.stop();
        run.finishedAt = new Date().toISOString();
        return run;
      }
      await setUp(endpoint, "wrangler dev", options, run, log);
      await measureCells(endpoint, wranglerModes, options, run, log);
      if (miniflareModes.length === 0) await measureTxn(endpoint, "wrangler dev", options, run, log);
      await runReshape(endpoint, options.reshape, log).then(
        (reshape) => {
          run.reshape = reshape;
          log(`  reshape: split answered ${reshape.splitStatus} after ${reshape.splitMs ?? "-"} ms; ${reshape.failed} of ${reshape.requests} writes failed`);
          if (reshape.failed > 0) log(`  reshape: wrangler dev printed last:\n${host.output().slice(-3000)}`);
        },
        (error: unknown) => {
          run.reshapeError = String(error).slice(0, 600);
          log(`  reshape: the scenario failed: ${run.reshapeError}`);
        },
      );
      await host.stop();
    }
  } finally {
    unregister();
    rmSync(directory, { recursive: true, force: true });
  }
  run.finishedAt = new Date().toISOString();
  return run;
}

/** Creates every scenario's groups, times Worker-to-object round trips, and warms every scenario up. */
async function setUp(endpoint: Endpoint, runtime: string, options: BenchOptions, run: BenchRun, log: Log): Promise<void> {
  for (const scenario of scenarios) {
    const tookMs = await createScenarioGroups(endpoint, scenario);
    log(`  created ${scenario.groups.length} group(s) of ${scenario.label} in ${Math.round(tookMs)} ms`);
  }
  await pingReplica(endpoint, "bench-single", Math.min(options.pingCount, 20)); // wakes the object
  const { elapsedMs } = await pingReplica(endpoint, "bench-single", options.pingCount);
  run.roundTrips.workerToObject.push({ runtime, meanMs: round(elapsedMs / options.pingCount), count: options.pingCount });
  for (const scenario of scenarios) await warmUp(endpoint, scenario, options);
}

/** The transaction benchmark over HTTP into `runtime`; a failure is recorded, not thrown. */
async function measureTxn(endpoint: Endpoint, runtime: string, options: BenchOptions, run: BenchRun, log: Log): Promise<void> {
  const plan = { concurrencies: [16, 64], cellDurationMs: options.cellDurationMs, rounds: options.rounds, valueBytes: options.valueBytes };
  await runTxnBench(endpoint, runtime, plan, log).then(
    (result) => {
      run.txn = result;
    },
    (error: unknown) => {
      run.txnError = String(error).slice(0, 600);
      log(`  txn: the benchmark failed: ${run.txnError}`);
    },
  );
}

/** Mean object-to-object round trips, empty and with a write on each side, and the probe's write steps. */
async function objectRoundTrips(host: MiniflareHost, count: number): Promise<{ emptyMs: number; withWriteMs: number; soloStepMs: number; replicatedStepMs: number }> {
  return {
    emptyMs: await host.objectRoundTripMs({ count, write: false }),
    withWriteMs: await host.objectRoundTripMs({ count, write: true }),
    soloStepMs: await host.writeStepMs({ count, peers: 1 }),
    replicatedStepMs: await host.writeStepMs({ count, peers: 2 }),
  };
}

/** Writes every key of the scenario once (bounded in time), which also elects and caches leaders. */
async function warmUp(endpoint: Endpoint, scenario: Scenario, options: BenchOptions): Promise<void> {
  const prefixes = prefixesOf(scenario);
  await runInRuntime(endpoint, {
    operation: "write",
    prefixes,
    keysPerPrefix: options.keysPerPrefix,
    valueBytes: options.valueBytes,
    concurrency: 16,
    operationsMax: prefixes.length * options.keysPerPrefix,
    durationMsMax: options.warmupMsMax,
  });
}

/** Measures every cell of `hostModes`: per concurrency and operation, scenarios side by side in alternating rounds. */
async function measureCells(endpoint: Endpoint, hostModes: Mode[], options: BenchOptions, run: BenchRun, log: Log): Promise<void> {
  for (const concurrency of options.concurrencies) {
    for (const operation of operations) {
      const outcomes = new Map<string, LoadOutcome[]>();
      for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
        const order = roundIndex % 2 === 0 ? scenarios : [...scenarios].reverse();
        for (const scenario of order) {
          for (const mode of hostModes) {
            const outcome = await measureOnce(endpoint, mode, scenario, operation, concurrency, options).catch((error: unknown) => {
              log(`  ${mode} ${scenario.id} ${operation} c=${concurrency}: the round failed: ${String(error).slice(0, 600)}`);
              return { completed: 0, failed: 1, elapsedMs: 0, latenciesMs: [], errors: { roundFailed: 1 } } satisfies LoadOutcome;
            });
            const key = `${mode} ${scenario.id}`;
            outcomes.set(key, [...(outcomes.get(key) ?? []), outcome]);
          }
        }
      }
      for (const scenario of scenarios) {
        for (const mode of hostModes) {
          const cell = cellOf({ mode, scenario: scenario.id, operation, concurrency }, mergeOutcomes(outcomes.get(`${mode} ${scenario.id}`) ?? []));
          run.cells.push(cell);
          log(`  ${mode.padEnd(14)} ${scenario.id.padEnd(3)} ${operation.padEnd(9)} c=${String(concurrency).padEnd(2)} ${describeCell(cell)}`);
        }
      }
    }
  }
}

/** One round of one cell in one mode. */
function measureOnce(endpoint: Endpoint, mode: Mode, scenario: Scenario, operation: Operation, concurrency: number, options: BenchOptions): Promise<LoadOutcome> {
  const load: RuntimeLoad = {
    operation,
    prefixes: prefixesOf(scenario),
    keysPerPrefix: options.keysPerPrefix,
    valueBytes: options.valueBytes,
    concurrency,
    operationsMax: options.cellOperationsMax,
    durationMsMax: Math.max(1, Math.round(options.cellDurationMs / options.rounds)),
  };
  return mode.startsWith("runtime-") ? runInRuntime(endpoint, load) : runClosedLoop(load, httpOperation(endpoint, load));
}

function describeCell(cell: Cell): string {
  const failures = cell.failed > 0 ? ` failed ${cell.failed} ${JSON.stringify(cell.errors)}` : "";
  return `${String(Math.round(cell.throughputPerSecond)).padStart(6)}/s p50 ${cell.p50Ms} ms p99 ${cell.p99Ms} ms${failures}`;
}
