/**
 * Strict serializability check of a transaction history: build the dependency graph (txn-graph.ts),
 * then look for cycles in it (txn-cycles.ts). A history is accepted when no direct anomaly and no
 * cycle is found. Sound with indeterminate transactions: an `info` transaction joins the graph
 * only once a write of its was read, and then it counts as committed.
 */
import { findCycles, type CycleAnomaly } from "./txn-cycles.ts";
import { buildDependencyGraph, type DependencyKind, type DirectAnomaly } from "./txn-graph.ts";
import type { TxnOperation } from "./txn-history.ts";

/** The verdict on a transaction history, with what the graph held. */
export interface TxnCheckResult {
  /** Strict serializability: true exactly when there is no anomaly of either sort. */
  readonly valid: boolean;
  /** Serializability: no direct anomaly and no cycle without real-time edges (a `-realtime` cycle only breaks strictness). */
  readonly serializable: boolean;
  readonly operationsCount: number;
  /** Transactions in the graph: every `ok` one and the observed `info` ones. */
  readonly committedCount: number;
  readonly failedCount: number;
  readonly indeterminateCount: number;
  /** `info` transactions that a read proved committed. */
  readonly observedIndeterminateCount: number;
  readonly edgesCount: Readonly<Record<DependencyKind, number>>;
  readonly unresolvedReadsCount: number;
  readonly directAnomalies: readonly DirectAnomaly[];
  readonly cycles: readonly CycleAnomaly[];
}

/** Checks `operations` (as from parseTxnHistory or TxnHistoryRecorder) for strict serializability. */
export function checkTxnHistory(operations: readonly TxnOperation[]): TxnCheckResult {
  const graph = buildDependencyGraph(operations);
  const cycles = findCycles(graph);
  const edgesCount: Record<DependencyKind, number> = { ww: 0, wr: 0, rw: 0, rt: 0 };
  for (const edge of graph.edges) edgesCount[edge.kind]++;
  return {
    valid: graph.anomalies.length === 0 && cycles.length === 0,
    serializable: graph.anomalies.length === 0 && cycles.every((cycle) => cycle.kind.endsWith("-realtime")),
    operationsCount: operations.length,
    committedCount: graph.nodes.length,
    failedCount: operations.filter((operation) => operation.outcome === "fail").length,
    indeterminateCount: operations.filter((operation) => operation.outcome === "info").length,
    observedIndeterminateCount: graph.observedIndeterminateCount,
    edgesCount,
    unresolvedReadsCount: graph.unresolvedReadsCount,
    directAnomalies: graph.anomalies,
    cycles,
  };
}

/** The kinds of anomaly found, sorted and without repeats (empty for a valid history). */
export function anomalyKinds(result: TxnCheckResult): string[] {
  const kinds = new Set<string>([...result.directAnomalies.map((anomaly) => anomaly.kind), ...result.cycles.map((cycle) => cycle.kind)]);
  return [...kinds].sort();
}
