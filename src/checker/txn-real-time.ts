/**
 * Real-time edges between committed transactions, for strict serializability: T1 -> T2 when T1
 * completed before T2 was invoked. Built as Elle builds them, without the quadratic set: walking
 * the history in order, a frontier holds the completed transactions not yet followed by another
 * completed one; an invoke gets an edge from every member, and a completion replaces the members
 * its transaction followed. Every real-time pair is then connected by a path. An `info`
 * transaction never completes, so it has incoming real-time edges only.
 */
import type { DependencyEdge } from "./txn-graph.ts";
import type { TxnOperation } from "./txn-history.ts";

/** The reduced real-time edges among `committed` transactions of `operations` (in invocation order). */
export function realTimeEdges(operations: readonly TxnOperation[], committed: ReadonlySet<number>): DependencyEdge[] {
  const completions = operations
    .filter((operation) => committed.has(operation.index) && operation.outcome === "ok")
    .sort((a, b) => a.completePosition - b.completePosition);
  const frontier = new Set<number>();
  const predecessors = new Map<number, number[]>();
  const edges: DependencyEdge[] = [];
  let completionNext = 0;
  for (const operation of operations) {
    while (completionNext < completions.length && completions[completionNext]!.completePosition < operation.invokePosition) {
      complete(completions[completionNext++]!.index, frontier, predecessors);
    }
    if (!committed.has(operation.index)) continue;
    const before = [...frontier];
    predecessors.set(operation.index, before);
    for (const from of before) edges.push({ from, to: operation.index, kind: "rt", key: null, fromVersion: null, toVersion: null });
  }
  return edges;
}

function complete(index: number, frontier: Set<number>, predecessors: ReadonlyMap<number, number[]>): void {
  for (const predecessor of predecessors.get(index) ?? []) frontier.delete(predecessor);
  frontier.add(index);
}
