/**
 * Proves that the multi-group simulator passes a few seeds end to end (several Raft groups, random
 * splits, merges and moves under a concurrent workload, replica and network faults, saga drivers
 * that crash and race; then healing, the ownership checks and the linearizability check), that the
 * seeds really reshaped the keyspace and exercised the faults, and that a seed replays exactly.
 */
import { describe, expect, it } from "vitest";
import { multiGroupReplayCommand, runMultiGroup } from "./multigroup-runner.ts";

const seeds = [1, 2, 3, 48, 74];
const steps = 2000;

describe("multi-group simulation", () => {
  it(`passes seeds ${seeds.join(", ")} of ${steps} steps with reshaping under faults`, () => {
    const failures: string[] = [];
    let sagas = 0;
    let refusalsFollowed = 0;
    let faults = 0;
    for (const seed of seeds) {
      const result = runMultiGroup({ seed, steps });
      sagas += result.reshape.sagasDone + result.reshape.sagasRolledBack;
      refusalsFollowed += result.routing.wrongRange + result.routing.rangeFrozen;
      faults += result.faults;
      if (result.failure !== null) failures.push(`seed ${seed} (${result.phase}): ${result.failure}\n  replay: ${multiGroupReplayCommand(seed, steps)}`);
    }
    expect(failures).toEqual([]);
    expect(sagas).toBeGreaterThan(seeds.length); // the keyspace really moved
    expect(refusalsFollowed).toBeGreaterThan(0); // clients met moved and frozen ranges and followed them
    expect(faults).toBeGreaterThan(0);
  });

  it("replays a seed exactly", () => {
    const trace = (lines: string[]) => (line: string) => void lines.push(line);
    const first: string[] = [];
    const second: string[] = [];
    const a = runMultiGroup({ seed: 5, steps: 1000, trace: trace(first) });
    const b = runMultiGroup({ seed: 5, steps: 1000, trace: trace(second) });
    expect(b.reshape).toEqual(a.reshape);
    expect(second).toEqual(first);
  });
});
