/**
 * The four scenarios and how they are set up through the public API: each is a set of prefix
 * groups created with POST /v1/groups; the load spreads keys round-robin over their prefixes.
 */
import type { ScenarioId } from "./results.ts";

/** One group a scenario uses. */
export interface ScenarioGroup {
  name: string;
  prefix: string;
  replicas: number;
}

/** A scenario: its groups, a label for tables and a short one for charts. */
export interface Scenario {
  id: ScenarioId;
  label: string;
  shortLabel: string;
  groups: ScenarioGroup[];
}

function groupsOf(count: number, stem: string): ScenarioGroup[] {
  return Array.from({ length: count }, (_, index) => ({ name: `${stem}-${index}`, prefix: `${stem}-${index}/`, replicas: 3 }));
}

/** (a) the unreplicated baseline, (b) one 3-replica group, (c) 4 and 16 groups of 3 replicas. */
export const scenarios: readonly Scenario[] = [
  { id: "a", label: "(a) 1 group x 1 replica", shortLabel: "a: 1 x 1", groups: [{ name: "bench-single", prefix: "bench-single/", replicas: 1 }] },
  { id: "b", label: "(b) 1 group x 3 replicas", shortLabel: "b: 1 x 3", groups: [{ name: "bench-three", prefix: "bench-three/", replicas: 3 }] },
  { id: "c4", label: "(c) 4 groups x 3 replicas", shortLabel: "c: 4 x 3", groups: groupsOf(4, "bench-four") },
  { id: "c16", label: "(c) 16 groups x 3 replicas", shortLabel: "c: 16 x 3", groups: groupsOf(16, "bench-sixteen") },
];

/** The scenario with `id`. */
export function scenarioOf(id: ScenarioId): Scenario {
  const scenario = scenarios.find((candidate) => candidate.id === id);
  if (scenario === undefined) throw new Error(`unknown scenario ${id}`);
  return scenario;
}

/** The prefixes a scenario's load spreads over. */
export function prefixesOf(scenario: Scenario): string[] {
  return scenario.groups.map((group) => group.prefix);
}
