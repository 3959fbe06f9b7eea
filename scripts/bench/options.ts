/**
 * Command-line options of `npm run bench`: the full run (every mode, 3 s per cell) or `--quick`
 * (CI: load inside Miniflare and HTTP through wrangler dev only, short cells), and a few overrides.
 */
import type { ReshapePlan } from "./reshape.ts";
import { modes, type Mode } from "./results.ts";

/** Everything a run is configured by. */
export interface BenchOptions {
  quick: boolean;
  modes: Mode[];
  concurrencies: number[];
  /** Each cell issues operations for this long in all (split over its rounds)... */
  cellDurationMs: number;
  /** Rounds per cell, alternating the scenario order so drift falls on both sides of a ratio. */
  rounds: number;
  /** ...or after this many operations. */
  cellOperationsMax: number;
  /** Warm-up before each scenario (leaders elected, caches filled, keys written), at most this long. */
  warmupMsMax: number;
  valueBytes: number;
  keysPerPrefix: number;
  /** Sequential round trips timed to measure one Durable Object round trip. */
  pingCount: number;
  /** Also write docs/benchmarks/latest.{json,svg} (full runs only, unless told otherwise). */
  writeDocs: boolean;
  /** Profile the runtime instead of benchmarking it (see profile.ts). */
  profile: boolean;
  /** The reshaping scenario (run on wrangler dev when a wrangler mode is selected). */
  reshape: ReshapePlan;
  /** Run only the transaction benchmark (on the first runtime of the selected modes). */
  txnOnly: boolean;
}

/** Usage text for --help. */
export const usage = `usage: npm run bench [-- --quick | --profile] [--modes=runtime-miniflare,http-miniflare,runtime-wrangler,http-wrangler] [--cell-ms=N] [--rounds=N] [--docs | --no-docs]
  --quick     short run for CI (in-runtime and wrangler dev modes, 700 ms per cell)
  --rounds    rounds per cell, scenario order alternating (default 4; quick: 2)
  --modes     which load sources to run (default: all four; quick: runtime-miniflare,http-wrangler)
  --cell-ms   how long each cell issues operations, in milliseconds
  --reshape-keys  keys in the group the reshaping scenario splits (default 10000; quick: 2000); that
              scenario (a live split under 8 HTTP writers) runs after the cells when a wrangler mode is selected
  --docs      also write docs/benchmarks/latest.json and latest.svg (default for full runs)
  --profile   instead: CPU-profile (a) and (b) writes and (b) reads at concurrency 64 inside Miniflare
  --txn-only  only the transaction benchmark (txn/s of 2 keys in 2 groups and in 1 group vs single-key
              writes/s at 16 and 64 clients, over HTTP into the first runtime of the selected modes)`;

/** Parses `argv` (without node and the script); throws on unknown arguments. */
export function parseOptions(argv: readonly string[]): BenchOptions | "help" {
  const quick = argv.includes("--quick");
  const options: BenchOptions = {
    quick,
    modes: quick ? ["runtime-miniflare", "http-wrangler"] : [...modes],
    concurrencies: [1, 16, 64],
    cellDurationMs: quick ? 700 : 3_000,
    rounds: quick ? 2 : 4,
    cellOperationsMax: 50_000,
    warmupMsMax: quick ? 2_000 : 5_000,
    valueBytes: 100,
    keysPerPrefix: 32,
    pingCount: quick ? 100 : 500,
    writeDocs: !quick,
    profile: false,
    txnOnly: false,
    reshape: quick
      ? { keys: 2_000, valueBytes: 100, clients: 8, beforeMs: 4_000, afterMs: 1_000 }
      : { keys: 10_000, valueBytes: 100, clients: 8, beforeMs: 10_000, afterMs: 2_000 },
  };
  for (const argument of argv) {
    if (argument === "--help" || argument === "-h") return "help";
    if (argument === "--quick") continue;
    if (argument === "--docs") options.writeDocs = true;
    else if (argument === "--profile") options.profile = true;
    else if (argument === "--no-docs") options.writeDocs = false;
    else if (argument === "--txn-only") options.txnOnly = true;
    else if (argument.startsWith("--modes=")) options.modes = parseModes(argument.slice("--modes=".length));
    else if (argument.startsWith("--cell-ms=")) options.cellDurationMs = parseBounded(argument, 50, 60_000);
    else if (argument.startsWith("--rounds=")) options.rounds = parseBounded(argument, 1, 10);
    else if (argument.startsWith("--reshape-keys=")) options.reshape = { ...options.reshape, keys: parseBounded(argument, 100, 100_000) };
    else throw new Error(`unknown argument ${argument}\n${usage}`);
  }
  return options;
}

function parseModes(text: string): Mode[] {
  const chosen = text.split(",").filter((mode) => mode !== "");
  for (const mode of chosen) if (!(modes as readonly string[]).includes(mode)) throw new Error(`unknown mode ${mode}; modes are ${modes.join(", ")}`);
  if (chosen.length === 0) throw new Error("--modes needs at least one mode");
  return modes.filter((mode) => chosen.includes(mode));
}

function parseBounded(argument: string, low: number, high: number): number {
  const value = Number(argument.slice(argument.indexOf("=") + 1));
  if (!Number.isSafeInteger(value) || value < low || value > high) throw new Error(`${argument}: expected an integer ${low}..${high}`);
  return value;
}
