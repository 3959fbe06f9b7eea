/**
 * Proves that a saga driver that wakes with a stale copy of its saga cannot leave the range table
 * wrong: with the stale-drivers focus (most drivers stall right after their route step, for long,
 * so the span has often moved on when they route it again), seeds that failed the final
 * table-vs-ownership check before the route step read the target's ownership (3, 5, 6, 25, 36)
 * now pass, and the focus really produced stale route steps.
 */
import { describe, expect, it } from "vitest";
import { multiGroupReplayCommand, runMultiGroup } from "./multigroup-runner.ts";

const seeds = [3, 5, 6, 25, 36];
const steps = 3000;
const focus = { staleDrivers: true };

describe("multi-group simulation with stale saga drivers", () => {
  it(`passes seeds ${seeds.join(", ")} with drivers that route again after the span moved on`, () => {
    const failures: string[] = [];
    let staleRoutes = 0;
    for (const seed of seeds) {
      const result = runMultiGroup({ seed, steps, focus });
      staleRoutes += result.reshape.staleRoutes;
      if (result.failure !== null) failures.push(`seed ${seed} (${result.phase}): ${result.failure}\n  replay: ${multiGroupReplayCommand(seed, steps, focus)}`);
    }
    expect(failures).toEqual([]);
    expect(staleRoutes).toBeGreaterThan(seeds.length);
  });
});
