/**
 * Cycle search in a dependency graph, after Elle (Kingsbury & Alvaro 2020): strongly connected
 * components (Tarjan) first, which costs nothing on a serializable history (every component is one
 * transaction); then, in each larger component, the weakest cycle, found by allowing edge kinds
 * step by step: ww only (G0), ww and wr (G1c), exactly one rw (G-single), any rw (G2); then the
 * same with real-time edges (the `-realtime` kinds: serializable, but not strictly). A cycle is
 * named by the edges it has.
 */
import { assert } from "../shared/assert.ts";
import type { DependencyEdge, DependencyGraph, DependencyKind } from "./txn-graph.ts";

/** Kinds of cycle anomalies, weakest first. */
export type CycleKind = "G0" | "G1c" | "G-single" | "G2" | "G0-realtime" | "G1c-realtime" | "G-single-realtime" | "G2-realtime";

/** A cycle: edges where each one's `to` is the next one's `from`, and the last returns to the first. */
export interface CycleAnomaly {
  readonly kind: CycleKind;
  readonly cycle: readonly DependencyEdge[];
  /** Transactions in the strongly connected component the cycle was found in. */
  readonly componentSize: number;
}

/** How many single-rw searches one component gets before the search settles for any cycle. */
export const singleAntiDependencySearchesMax = 2_000;

/** Every component of more than one transaction, with the weakest cycle found in it. */
export function findCycles(graph: DependencyGraph): CycleAnomaly[] {
  const all = new Set<DependencyKind>(["ww", "wr", "rw", "rt"]);
  const components = stronglyConnectedComponents(graph.nodes, graph.outgoing, all, null);
  const anomalies: CycleAnomaly[] = [];
  for (const component of components) {
    if (component.length < 2) continue;
    const cycle = weakestCycle(graph, new Set(component));
    assert(cycle !== null, "a strongly connected component of two or more transactions has a cycle");
    anomalies.push({ kind: classify(cycle), cycle, componentSize: component.length });
  }
  return anomalies;
}

/** Names a cycle by its edges: how many anti-dependencies, and whether real time is needed. */
export function classify(cycle: readonly DependencyEdge[]): CycleKind {
  const antiDependencies = cycle.filter((edge) => edge.kind === "rw").length;
  const base = antiDependencies === 0 ? (cycle.every((edge) => edge.kind === "ww" || edge.kind === "rt") ? "G0" : "G1c") : antiDependencies === 1 ? "G-single" : "G2";
  return cycle.some((edge) => edge.kind === "rt") ? (`${base}-realtime` as CycleKind) : base;
}

function weakestCycle(graph: DependencyGraph, component: ReadonlySet<number>): DependencyEdge[] | null {
  for (const realTime of [false, true]) {
    const extra: DependencyKind[] = realTime ? ["rt"] : [];
    const steps: DependencyKind[][] = [["ww", ...extra], ["ww", "wr", ...extra]];
    for (const kinds of steps) {
      const cycle = anyCycle(graph, component, new Set(kinds));
      if (cycle !== null) return cycle;
    }
    const single = singleAntiDependencyCycle(graph, component, new Set<DependencyKind>(["ww", "wr", ...extra]));
    if (single !== null) return single;
    const cycle = anyCycle(graph, component, new Set<DependencyKind>(["ww", "wr", "rw", ...extra]));
    if (cycle !== null) return cycle;
  }
  return null;
}

/** A shortest cycle through some node of a non-trivial component of the subgraph, or null. */
function anyCycle(graph: DependencyGraph, within: ReadonlySet<number>, kinds: ReadonlySet<DependencyKind>): DependencyEdge[] | null {
  const components = stronglyConnectedComponents([...within], graph.outgoing, kinds, within);
  const component = components.find((nodes) => nodes.length > 1);
  if (component === undefined) return null;
  const start = component[0]!;
  return shortestPath(graph, start, start, kinds, new Set(component));
}

/** A cycle of one rw edge and a path of `kinds` edges back, or null. */
function singleAntiDependencyCycle(graph: DependencyGraph, within: ReadonlySet<number>, kinds: ReadonlySet<DependencyKind>): DependencyEdge[] | null {
  let searches = 0;
  for (const node of within) {
    for (const edge of graph.outgoing.get(node) ?? []) {
      if (edge.kind !== "rw" || !within.has(edge.to)) continue;
      if (searches++ >= singleAntiDependencySearchesMax) return null;
      const back = shortestPath(graph, edge.to, edge.from, kinds, within);
      if (back !== null) return [edge, ...back];
    }
  }
  return null;
}

/** Edges of a shortest path from `from` to `to` (at least one edge, so from === to finds a cycle). */
function shortestPath(graph: DependencyGraph, from: number, to: number, kinds: ReadonlySet<DependencyKind>, within: ReadonlySet<number>): DependencyEdge[] | null {
  const reachedBy = new Map<number, DependencyEdge>();
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const edge of graph.outgoing.get(node) ?? []) {
      if (!kinds.has(edge.kind) || !within.has(edge.to)) continue;
      if (edge.to === to) return [...pathTo(reachedBy, from, node), edge];
      if (reachedBy.has(edge.to) || edge.to === from) continue;
      reachedBy.set(edge.to, edge);
      queue.push(edge.to);
    }
  }
  return null;
}

function pathTo(reachedBy: ReadonlyMap<number, DependencyEdge>, from: number, node: number): DependencyEdge[] {
  const path: DependencyEdge[] = [];
  for (let current = node; current !== from; ) {
    const edge = reachedBy.get(current)!;
    path.push(edge);
    current = edge.from;
  }
  return path.reverse();
}

/**
 * Tarjan's strongly connected components over the edges of `kinds` (iterative: histories are long
 * enough to overflow a recursive one). `within` restricts the nodes, null for all.
 */
export function stronglyConnectedComponents(
  nodes: readonly number[],
  outgoing: ReadonlyMap<number, readonly DependencyEdge[]>,
  kinds: ReadonlySet<DependencyKind>,
  within: ReadonlySet<number> | null,
): number[][] {
  const indexOf = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const components: number[][] = [];
  let counter = 0;
  const visit = (node: number): void => {
    indexOf.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
  };
  for (const root of nodes) {
    if (indexOf.has(root)) continue;
    visit(root);
    const work: { node: number; edges: readonly DependencyEdge[]; next: number }[] = [{ node: root, edges: outgoing.get(root) ?? [], next: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.edges.length) {
        const edge = frame.edges[frame.next++]!;
        if (!kinds.has(edge.kind) || (within !== null && !within.has(edge.to))) continue;
        if (!indexOf.has(edge.to)) {
          visit(edge.to);
          work.push({ node: edge.to, edges: outgoing.get(edge.to) ?? [], next: 0 });
        } else if (onStack.has(edge.to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, indexOf.get(edge.to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === indexOf.get(frame.node)) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}
