/**
 * The benchmark's data model: one cell per (mode, scenario, operation, concurrency), summarized
 * from a LoadOutcome, and the whole run as written to bench-results/latest.json.
 */
import type { LoadOutcome } from "../../src/hosts/cloudflare/bench-load.ts";
import type { ReshapeResult } from "./reshape.ts";
import type { TxnBenchResult } from "./txn.ts";

/** Where the load came from. */
export type Mode = "runtime-miniflare" | "http-miniflare" | "runtime-wrangler" | "http-wrangler";

/** Every mode, in the order tables and charts show them. */
export const modes: readonly Mode[] = ["runtime-miniflare", "http-miniflare", "runtime-wrangler", "http-wrangler"];

/** What each mode means, for tables and charts. */
export const modeLabels: Record<Mode, string> = {
  "runtime-miniflare": "inside the runtime: load from a Worker route, Miniflare",
  "http-miniflare": "HTTP from Node straight into workerd, Miniflare",
  "runtime-wrangler": "inside the runtime: load from a Worker route, wrangler dev",
  "http-wrangler": "HTTP from Node through wrangler dev's proxy",
};

/** The scenarios: (a) unreplicated baseline, (b) one 3-replica group, (c) 4 and 16 groups of 3. */
export type ScenarioId = "a" | "b" | "c4" | "c16";

/** The operations measured. */
export type Operation = "write" | "read" | "staleRead";

/** Every operation, in the order they run (writes first, so the reads find the keys). */
export const operations: readonly Operation[] = ["write", "read", "staleRead"];

/** One measured cell. Latencies in milliseconds; inside workerd the clock has 1 ms resolution. */
export interface Cell {
  mode: Mode;
  scenario: ScenarioId;
  operation: Operation;
  concurrency: number;
  completed: number;
  failed: number;
  elapsedMs: number;
  throughputPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  errors: Record<string, number>;
}

/** Round trips and the probe's write steps, measured in the same run; the latency bar uses the steps. */
export interface RoundTrips {
  /** Worker to a replica object and back (`/internal/status`), per runtime; mean is total time over count. */
  workerToObject: { runtime: string; meanMs: number; count: number }[];
  /**
   * Durable Object to Durable Object (Miniflare only, through the bench probe object): an empty
   * fetch, and one where each side writes a row first (flush, hop, flush). Measured before and
   * after the load; the means are over both.
   */
  objectToObject?: { emptyMs: number; withWriteMs: number; samplesWithWriteMs: number[]; count: number; writeStep: WriteStep };
}

/**
 * The probe's write steps with no engine (probe-object.ts /step), before and after the load
 * averaged: an object writing a row and waiting for its flush, and the replicated shape with two
 * peers. Their difference is what replication adds on this machine before any engine work.
 */
export interface WriteStep {
  soloMs: number;
  replicatedMs: number;
}

/** A whole run. */
export interface BenchRun {
  schema: 1;
  command: string;
  quick: boolean;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; node: string; platform: string };
  settings: { valueBytes: number; keysPerPrefix: number; cellDurationMs: number; rounds: number; cellOperationsMax: number; concurrencies: number[]; modes: Mode[] };
  /** The commit the bundle was made from, and how many files under src/ were uncommitted. */
  source: { commit: string; uncommittedSourceFiles: number };
  runtimes: { name: string; workerdVersion: string; compatibilityDate?: string }[];
  roundTrips: RoundTrips;
  cells: Cell[];
  /** The reshaping scenario (a live split under writes, through wrangler dev), when it ran. */
  reshape?: ReshapeResult;
  /** Why the reshaping scenario could not finish, when it could not. */
  reshapeError?: string;
  /** The transaction benchmark (issue 9), run over HTTP into the first runtime started. */
  txn?: TxnBenchResult;
  /** Why the transaction benchmark could not finish, when it could not. */
  txnError?: string;
}

/** The p-th percentile (0 < p <= 1) by nearest rank of ascending `sorted`; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** One outcome from several, as if measured in one go: counts and times add up, latencies join. */
export function mergeOutcomes(outcomes: readonly LoadOutcome[]): LoadOutcome {
  const merged: LoadOutcome = { completed: 0, failed: 0, elapsedMs: 0, latenciesMs: [], errors: {} };
  for (const outcome of outcomes) {
    merged.completed += outcome.completed;
    merged.failed += outcome.failed;
    merged.elapsedMs += outcome.elapsedMs;
    for (const latency of outcome.latenciesMs) merged.latenciesMs.push(latency);
    for (const [code, count] of Object.entries(outcome.errors)) merged.errors[code] = (merged.errors[code] ?? 0) + count;
  }
  return merged;
}

/** Summarizes a run's outcome into a cell. */
export function cellOf(key: Pick<Cell, "mode" | "scenario" | "operation" | "concurrency">, outcome: LoadOutcome): Cell {
  const sorted = [...outcome.latenciesMs].sort((left, right) => left - right);
  const total = sorted.reduce((sum, latency) => sum + latency, 0);
  return {
    ...key,
    completed: outcome.completed,
    failed: outcome.failed,
    elapsedMs: round(outcome.elapsedMs),
    throughputPerSecond: outcome.elapsedMs > 0 ? round((outcome.completed * 1000) / outcome.elapsedMs) : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sorted.length > 0 ? round(total / sorted.length) : 0,
    errors: outcome.errors,
  };
}

/** The cell for a key, if measured. */
export function findCell(cells: readonly Cell[], mode: Mode, scenario: ScenarioId, operation: Operation, concurrency: number): Cell | undefined {
  return cells.find((cell) => cell.mode === mode && cell.scenario === scenario && cell.operation === operation && cell.concurrency === concurrency);
}

/** Rounds to two decimals. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}
