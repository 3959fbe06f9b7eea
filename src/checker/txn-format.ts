/**
 * Readable renderings of transactions and of the transaction checker's verdict, for the
 * check-history script and test messages.
 */
import type { CycleAnomaly, CycleKind } from "./txn-cycles.ts";
import type { TxnCheckResult } from "./txn-check.ts";
import type { DependencyEdge } from "./txn-graph.ts";
import { isAbsentCheck, type TxnOperation } from "./txn-history.ts";

/** What each cycle kind means, in a few words. */
const cycleMeanings: Readonly<Record<CycleKind, string>> = {
  G0: "write cycle",
  G1c: "circular information flow",
  "G-single": "read skew or lost update: one anti-dependency",
  G2: "write skew: anti-dependency cycle",
  "G0-realtime": "write cycle against real-time order",
  "G1c-realtime": "information flow against real-time order",
  "G-single-realtime": "one anti-dependency against real-time order (a stale read)",
  "G2-realtime": "anti-dependencies against real-time order",
};

/** How many transactions of a cycle describeTxnCycle lists in full. */
export const cycleShownMax = 12;

/** One transaction on one line, e.g. `T12 process 3 ok [time 10..14]: check "a"@3, read "b" -> "x"@5, put "a" "y" -> @7`. */
export function describeTransaction(operation: TxnOperation): string {
  const completion = operation.completeTime === null ? "never" : String(operation.completeTime);
  const parts: string[] = [];
  for (const check of operation.request.checks) parts.push(`check ${JSON.stringify(check.key)}${isAbsentCheck(check) ? " absent" : `@${check.version}`}`);
  const reads = operation.response?.reads ?? [];
  for (const key of operation.request.reads) {
    const read = reads.find((candidate) => candidate.key === key);
    parts.push(read === undefined ? `read ${JSON.stringify(key)}` : `read ${JSON.stringify(key)} -> ${read.found ? `${JSON.stringify(read.value)}@${read.version}` : "absent"}`);
  }
  for (const write of operation.request.writes) {
    const version = operation.response?.versions[write.key];
    const what = write.op === "put" ? `put ${JSON.stringify(write.key)} ${JSON.stringify(write.value)}` : `delete ${JSON.stringify(write.key)}`;
    parts.push(version === undefined ? what : `${what} -> @${version}`);
  }
  return `T${operation.index} process ${operation.process} ${operation.outcome} [time ${operation.invokeTime}..${completion}]: ${parts.join(", ")}`;
}

/** One edge, e.g. `-rw "a" read @3, next written @7->`. */
export function describeEdge(edge: DependencyEdge): string {
  const key = JSON.stringify(edge.key);
  switch (edge.kind) {
    case "ww":
      return `-ww ${key} @${edge.fromVersion} then @${edge.toVersion}->`;
    case "wr":
      return `-wr ${key} @${edge.fromVersion} read->`;
    case "rw":
      return `-rw ${key} read @${edge.fromVersion}, overwritten @${edge.toVersion}->`;
    case "rt":
      return "-rt completed before invoked->";
  }
}

/** Several lines: the kind, what it means, then each transaction of the cycle and the edge to the next. */
export function describeTxnCycle(anomaly: CycleAnomaly, operations: readonly TxnOperation[]): string[] {
  const lines = [`${anomaly.kind} (${cycleMeanings[anomaly.kind]}): a cycle of ${anomaly.cycle.length} transactions, in a component of ${anomaly.componentSize}`];
  const shown = anomaly.cycle.slice(0, cycleShownMax);
  for (const edge of shown) {
    lines.push(`  ${describeTransaction(operations[edge.from]!)}`);
    lines.push(`    ${describeEdge(edge)}`);
  }
  if (shown.length < anomaly.cycle.length) lines.push(`  ... ${anomaly.cycle.length - shown.length} more`);
  lines.push(`  ${describeTransaction(operations[anomaly.cycle[0]!.from]!)} (again)`);
  return lines;
}

/** Every anomaly of a verdict, readably (no lines for a valid history). */
export function describeTxnAnomalies(result: TxnCheckResult, operations: readonly TxnOperation[]): string[] {
  const lines: string[] = [];
  for (const anomaly of result.directAnomalies) {
    lines.push(`${anomaly.kind} on ${JSON.stringify(anomaly.key)}: ${anomaly.explanation}`);
    for (const index of anomaly.transactions) lines.push(`  ${describeTransaction(operations[index]!)}`);
  }
  for (const cycle of result.cycles) lines.push(...describeTxnCycle(cycle, operations));
  return lines;
}

/** A one-line summary, e.g. `serializable: 812 transactions (790 committed, 12 failed, 10 indeterminate, 3 of them observed); edges ww 900 ...`. */
export function describeTxnSummary(result: TxnCheckResult): string {
  const anomalies = result.directAnomalies.length + result.cycles.length;
  const found = `${anomalies} ${anomalies === 1 ? "anomaly" : "anomalies"}`;
  const verdict = result.valid ? "strict serializable" : result.serializable ? `serializable but NOT strict serializable (${found})` : `NOT serializable (${found})`;
  const counts = `${result.operationsCount} transactions (${result.committedCount} committed, ${result.failedCount} failed, ${result.indeterminateCount} indeterminate, ${result.observedIndeterminateCount} of them observed)`;
  const edges = Object.entries(result.edgesCount).map(([kind, count]) => `${kind} ${count}`).join(", ");
  return `${verdict}: ${counts}; edges ${edges}; ${result.unresolvedReadsCount} reads without a certain writer`;
}
