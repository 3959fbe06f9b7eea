/**
 * Proves that the deterministic simulator passes on a small campaign (20 seeds of 2000 steps with
 * the full fault mix, then the liveness phase and the linearizability check), that one seed replays
 * exactly, and that its wire and network really copy, lose and partition messages.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/shared/rng.ts";
import type { Message } from "../../src/raft/types.ts";
import { message } from "../../src/raft/raft.ts";
import { replayCommand, runSimulation } from "./runner.ts";
import { copyMessage } from "./wire.ts";
import { Network } from "./network.ts";

const seedsCount = 20;
const steps = 2000;

describe("simulation campaign", () => {
  it(`passes ${seedsCount} seeds of ${steps} steps`, () => {
    const failures: string[] = [];
    let operations = 0;
    for (let seed = 1; seed <= seedsCount; seed++) {
      const result = runSimulation({ seed, steps });
      operations += result.stats.operations;
      if (result.failure !== null) failures.push(`seed ${seed} (${result.phase}): ${result.failure}\n  replay: ${replayCommand(seed, steps)}`);
    }
    expect(failures).toEqual([]);
    expect(operations).toBeGreaterThan(seedsCount * 20); // the clients really worked
  });

  it("replays a seed exactly: same statistics, same trace", () => {
    const trace = (lines: string[]) => (line: string) => void lines.push(line);
    const first: string[] = [];
    const second: string[] = [];
    const a = runSimulation({ seed: 7, steps: 1500, trace: trace(first) });
    const b = runSimulation({ seed: 7, steps: 1500, trace: trace(second) });
    expect(b.stats).toEqual(a.stats);
    expect(second).toEqual(first);
  });
});

describe("wire and network", () => {
  const withEntry = (): Message =>
    message("app", { from: 1, to: 2, term: 3, entries: [{ term: 3, index: 4, type: "normal", data: new Uint8Array([1, 2, 3]) }] });

  it("delivers deep copies: no payload is shared with the sender", () => {
    const original = withEntry();
    const copy = copyMessage(original);
    expect(copy).toEqual(original);
    copy.entries[0]!.data[0] = 9;
    expect(original.entries[0]!.data[0]).toBe(1);
  });

  it("refuses to copy a message with a field it does not know", () => {
    expect(() => copyMessage({ ...withEntry(), surprise: 1 } as Message)).toThrow(/knows every field/);
  });

  it("loses, duplicates and delays messages as configured, deterministically", () => {
    const send = (seed: number) => {
      const network = new Network(createRng(seed), { dropProbability: 0.3, duplicateProbability: 0.3, delayTicksMax: 3, stragglerProbability: 0, stragglerTicksMax: 0, tickProbability: 0, unreachableReportProbability: 0, tickSkipProbability: 0 });
      for (let index = 0; index < 200; index++) network.send(withEntry(), 0);
      const delivered: number[] = [];
      for (let now = 0; now <= 4; now++) for (let packet = network.takeDue(now); packet !== undefined; packet = network.takeDue(now)) delivered.push(packet.sequence);
      return { counters: network.counters, delivered, left: network.size };
    };
    const run = send(5);
    expect(run.counters.dropped).toBeGreaterThan(30);
    expect(run.counters.duplicated).toBeGreaterThan(10);
    expect(run.delivered.length).toBe(200 - run.counters.dropped + run.counters.duplicated);
    expect(run.left).toBe(0);
    expect(send(5)).toEqual(run);
  });

  it("blocks partitioned links one way or both ways until healed", () => {
    const network = new Network(createRng(1), { dropProbability: 0, duplicateProbability: 0, delayTicksMax: 0, stragglerProbability: 0, stragglerTicksMax: 0, tickProbability: 0, unreachableReportProbability: 0, tickSkipProbability: 0 });
    network.block(1, 2);
    expect([network.isBlocked(1, 2), network.isBlocked(2, 1)]).toEqual([true, false]);
    network.split([3], [4, 5]);
    expect([network.isBlocked(3, 5), network.isBlocked(5, 3), network.isBlocked(4, 5)]).toEqual([true, true, false]);
    network.heal();
    expect(network.blockedCount).toBe(0);
  });
});
