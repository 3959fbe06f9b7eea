/**
 * The transaction benchmark (issue 9): over HTTP into the runtime, closed-loop load of single-key
 * writes (PUT), transactions writing 2 keys in 2 groups (two-phase commit with intents) and
 * transactions writing 2 keys in 1 group (the one-phase fast path), at concurrency 16 and 64.
 * The three kinds run side by side in rounds of alternating order, so drift falls on both sides
 * of the ratios: transactions/s over single-key writes/s, per concurrency. Keys are spread over
 * enough keys per group (1024) that concurrent transactions rarely meet each other's intents.
 */
import { runClosedLoop, type LoadOperation, type LoadOutcome } from "../../src/hosts/cloudflare/bench-load.ts";
import { createScenarioGroups, type Endpoint } from "./api.ts";
import { mergeOutcomes, percentile, round } from "./results.ts";

/** The kinds of operation the transaction benchmark compares. */
export type TxnBenchKind = "write" | "txn2groups" | "txn1group";

/** One measured cell of the transaction benchmark. */
export interface TxnBenchCell {
  kind: TxnBenchKind;
  concurrency: number;
  completed: number;
  failed: number;
  throughputPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
}

/** What the transaction benchmark measured, and on which runtime. */
export interface TxnBenchResult {
  runtime: string;
  cells: TxnBenchCell[];
  /** Per concurrency: transactions/s over single-key writes/s (null when writes measured nothing). */
  ratios: { concurrency: number; twoGroups: number | null; oneGroup: number | null }[];
}

/** How the transaction benchmark is sized. */
export interface TxnBenchPlan {
  concurrencies: number[];
  cellDurationMs: number;
  rounds: number;
  valueBytes: number;
}

const kinds: readonly TxnBenchKind[] = ["write", "txn2groups", "txn1group"];
const keysPerGroup = 1024;
const groups = [
  { name: "bench-txn-0", prefix: "bench-txn-0/", replicas: 3 },
  { name: "bench-txn-1", prefix: "bench-txn-1/", replicas: 3 },
];

/** Runs the benchmark against `endpoint` (`runtime` names it in the report). */
export async function runTxnBench(endpoint: Endpoint, runtime: string, plan: TxnBenchPlan, log: (line: string) => void): Promise<TxnBenchResult> {
  await createScenarioGroups(endpoint, { groups });
  const warmUp = await runClosedLoop({ concurrency: 16, operationsMax: 256, durationMsMax: 10_000 }, operationOf(endpoint, "write", plan.valueBytes));
  log(`  txn: created ${groups.map((group) => group.name).join(", ")}; warm-up (leaders, routes) wrote ${warmUp.completed} keys (${warmUp.failed} failed)`);
  const cells: TxnBenchCell[] = [];
  for (const concurrency of plan.concurrencies) {
    const outcomes = new Map<TxnBenchKind, LoadOutcome[]>();
    for (let roundIndex = 0; roundIndex < plan.rounds; roundIndex++) {
      for (const kind of roundIndex % 2 === 0 ? kinds : [...kinds].reverse()) {
        const load = { concurrency, operationsMax: 200_000, durationMsMax: Math.max(1, Math.round(plan.cellDurationMs / plan.rounds)) };
        const outcome = await runClosedLoop(load, operationOf(endpoint, kind, plan.valueBytes));
        outcomes.set(kind, [...(outcomes.get(kind) ?? []), outcome]);
      }
    }
    for (const kind of kinds) {
      const measured = cellOf(kind, concurrency, mergeOutcomes(outcomes.get(kind) ?? []));
      cells.push(measured);
      log(`  txn ${runtime} ${kind.padEnd(10)} c=${String(concurrency).padEnd(2)} ${Math.round(measured.throughputPerSecond)}/s p50 ${measured.p50Ms} ms p99 ${measured.p99Ms} ms${measured.failed > 0 ? ` failed ${measured.failed} ${JSON.stringify(measured.errors)}` : ""}`);
    }
  }
  return { runtime, cells, ratios: ratiosOf(cells, plan.concurrencies) };
}

/** Summarizes the merged rounds of one kind at one concurrency. */
function cellOf(kind: TxnBenchKind, concurrency: number, outcome: LoadOutcome): TxnBenchCell {
  const sorted = [...outcome.latenciesMs].sort((left, right) => left - right);
  return {
    kind,
    concurrency,
    completed: outcome.completed,
    failed: outcome.failed,
    throughputPerSecond: outcome.elapsedMs > 0 ? round((outcome.completed * 1000) / outcome.elapsedMs) : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors: outcome.errors,
  };
}

/** Transactions/s over single-key writes/s, per concurrency. */
export function ratiosOf(cells: readonly TxnBenchCell[], concurrencies: readonly number[]): TxnBenchResult["ratios"] {
  return concurrencies.map((concurrency) => {
    const throughput = (kind: TxnBenchKind) => cells.find((cell) => cell.kind === kind && cell.concurrency === concurrency)?.throughputPerSecond ?? 0;
    const writes = throughput("write");
    const ratio = (kind: TxnBenchKind) => (writes > 0 ? round(throughput(kind) / writes) : null);
    return { concurrency, twoGroups: ratio("txn2groups"), oneGroup: ratio("txn1group") };
  });
}

/** The report lines: one per cell, then the ratios. */
export function txnReportLines(result: TxnBenchResult): string[] {
  const lines = [`Transactions (${result.runtime}, HTTP, 2 groups x 3 replicas, ${keysPerGroup} keys per group):`];
  const names: Record<TxnBenchKind, string> = { write: "single-key write", txn2groups: "txn, 2 keys in 2 groups", txn1group: "txn, 2 keys in 1 group" };
  for (const cell of result.cells) {
    const failures = cell.failed > 0 ? `, ${cell.failed} failed ${JSON.stringify(cell.errors)}` : "";
    lines.push(`  ${names[cell.kind].padEnd(24)} c=${String(cell.concurrency).padEnd(3)} ${String(Math.round(cell.throughputPerSecond)).padStart(6)}/s  p50 ${cell.p50Ms} ms  p99 ${cell.p99Ms} ms${failures}`);
  }
  for (const ratio of result.ratios) {
    const show = (value: number | null) => (value === null ? "-" : value.toFixed(2));
    lines.push(`  c=${ratio.concurrency}: txn/s over write/s: 2 groups ${show(ratio.twoGroups)}, 1 group (fast path) ${show(ratio.oneGroup)}`);
  }
  return lines;
}

/** The operation a cell repeats; a transaction writes the same key index in one or both groups. */
function operationOf(endpoint: Endpoint, kind: TxnBenchKind, valueBytes: number): LoadOperation {
  const value = "v".repeat(valueBytes);
  const headers = { authorization: `Bearer ${endpoint.token}`, "content-type": "application/json" };
  const keyOf = (group: number, index: number) => `${groups[group]!.prefix}k${String(index % keysPerGroup).padStart(5, "0")}`;
  return async (sequence) => {
    let response: Response;
    if (kind === "write") {
      response = await fetch(`${endpoint.url}/v1/kv/${keyOf(sequence % 2, sequence >> 1)}`, { method: "PUT", headers, body: value, signal: AbortSignal.timeout(30_000) });
    } else {
      const keys = kind === "txn2groups" ? [keyOf(0, sequence), keyOf(1, sequence)] : [keyOf(sequence % 2, 2 * sequence), keyOf(sequence % 2, 2 * sequence + 1)];
      const body = JSON.stringify({ writes: keys.map((key) => ({ op: "put", key, value })) });
      response = await fetch(`${endpoint.url}/v1/txn`, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
    }
    const text = await response.text();
    if (response.status === 200) return undefined;
    const code = /"code":"([A-Za-z]+)"/.exec(text)?.[1];
    return `http${response.status}${code === undefined ? "" : ` ${code}`}`;
  };
}
