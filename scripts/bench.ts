/**
 * `npm run bench` (`-- --quick` in CI): starts the real runtime (Miniflare directly, then
 * `wrangler dev`), loads it from inside the Worker and over HTTP, stops it, and prints one table
 * with throughput, p50 and p99 per scenario and concurrency, the ratios between scenarios measured
 * in the same run, and the bars of issue 4 as PASS/FAIL (a miss does not fail the process).
 * Writes bench-results/latest.json and latest.svg; a full run also writes docs/benchmarks/.
 * See docs/benchmarks.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chartSvg } from "./bench/chart.ts";
import { stopAll, stopAllOnSignals, wasInterrupted } from "./bench/cleanup.ts";
import { parseOptions, usage } from "./bench/options.ts";
import { barsOf, ratiosOf, reportText } from "./bench/report.ts";
import { runBenchmark } from "./bench/run.ts";
import { runProfile } from "./bench/profile.ts";
import { txnReportLines } from "./bench/txn.ts";
import { miniflareOutput } from "./bench/miniflare-host.ts";

/** The whole benchmark may not run longer than this; past it everything is stopped. */
const benchMsMax = 30 * 60_000;

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === "help") {
    console.log(usage);
    return 0;
  }
  stopAllOnSignals();
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${benchMsMax / 60_000} minutes; stopping`);
    void stopAll().finally(() => process.exit(1));
  }, benchMsMax);
  watchdog.unref();
  const beganMs = performance.now();
  if (options.profile) {
    await runProfile(options.cellDurationMs, (line) => console.log(line));
    return 0;
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const run = await runBenchmark(options, command, (line) => console.error(line));
  if (options.txnOnly) {
    if (run.txn !== undefined) console.log(txnReportLines(run.txn).join("\n"));
    if (run.txnError !== undefined) console.log(`Transactions: the benchmark failed: ${run.txnError}`);
    return run.txn === undefined ? 1 : 0;
  }
  const document = { ...run, ratios: ratiosOf(run), bars: barsOf(run) };
  const json = `${JSON.stringify(document, null, 2)}\n`;
  const svg = chartSvg(run);
  mkdirSync("bench-results", { recursive: true });
  writeFileSync(join("bench-results", "latest.json"), json);
  writeFileSync(join("bench-results", "latest.svg"), svg);
  const written = ["bench-results/latest.json", "bench-results/latest.svg"];
  if (options.writeDocs) {
    mkdirSync(join("docs", "benchmarks"), { recursive: true });
    writeFileSync(join("docs", "benchmarks", "latest.json"), json);
    writeFileSync(join("docs", "benchmarks", "latest.svg"), svg);
    written.push("docs/benchmarks/latest.json", "docs/benchmarks/latest.svg");
  }
  console.log(reportText(run));
  if (run.txn !== undefined) console.log(`\n${txnReportLines(run.txn).join("\n")}`);
  if (run.txnError !== undefined) console.log(`\nTransactions: the benchmark failed: ${run.txnError}`);
  console.log(`\nwrote ${written.join(", ")} in ${Math.round((performance.now() - beganMs) / 1000)} s`);
  return 0;
}

main()
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    if (wasInterrupted()) return; // the signal handler stops everything and exits
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const runtimeOutput = miniflareOutput().trim();
    if (runtimeOutput !== "") console.error(`bench: Miniflare's workerd printed last:\n${runtimeOutput.slice(-3000)}`);
    await stopAll();
    process.exit(1);
  });
