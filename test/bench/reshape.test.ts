/**
 * Proves that the benchmark's reshaping scenario is summarized and judged right without starting
 * a runtime: writes are sorted into before and during the split by their times, only keys in the
 * new group's ranges count as moved, the p99 ratio and the failure count come out of them, and
 * the bar fails on any failed write, on a split that did not answer 201, and on a scenario that
 * could not run.
 */
import { describe, expect, it } from "vitest";
import { summarizeReshape, type Sample } from "../../scripts/bench/reshape.ts";
import { barsOf, reportText } from "../../scripts/bench/report.ts";
import type { BenchRun } from "../../scripts/bench/results.ts";

/** A write of `key` from `beganMs` taking `latencyMs`. */
function sample(key: string, beganMs: number, latencyMs: number, error?: string): Sample {
  return { key, beganMs, endedMs: beganMs + latencyMs, error };
}

/** Before the split (sent at 1000, answered at 2000): moved keys take 10 ms; during it, 40 ms; the others 5 ms throughout. */
function recordedSamples(): Sample[] {
  const samples: Sample[] = [];
  for (let index = 0; index < 100; index++) {
    samples.push(sample("g/k9", index * 9, 10)); // moved, before (ends <= 1000)
    samples.push(sample("g/k1", index * 9, 5)); // stays, before
  }
  for (let index = 0; index < 20; index++) {
    samples.push(sample("g/k8", 1000 + index * 40, 40)); // moved, during
    samples.push(sample("g/k2", 1000 + index * 40, 5)); // stays, during
  }
  samples.push(sample("g/k7", 2500, 3)); // moved, after: in neither window
  return samples;
}

function emptyRun(): BenchRun {
  return {
    schema: 1, command: "npm run bench", quick: true, startedAt: "", finishedAt: "",
    machine: { cpus: 2, node: "v22", platform: "linux-x64" },
    settings: { valueBytes: 100, keysPerPrefix: 32, cellDurationMs: 700, rounds: 2, cellOperationsMax: 50_000, concurrencies: [1], modes: [] },
    source: { commit: "abc", uncommittedSourceFiles: 0 }, runtimes: [], roundTrips: { workerToObject: [] }, cells: [],
  };
}

describe("the reshaping scenario's summary", () => {
  const recording = { plan: { keys: 10, clients: 8 }, splitBeganMs: 1000, splitEndedMs: 2000, splitStatus: 201, newGroup: "g-hi", movedRanges: [{ start: "g/k5", end: "g0" }] };

  it("compares the moved keys' p99 during the split with before it", () => {
    const result = summarizeReshape({ ...recording, samples: recordedSamples() });
    expect(result.movedBefore).toEqual({ count: 100, p50Ms: 10, p99Ms: 10 });
    expect(result.movedDuring).toEqual({ count: 20, p50Ms: 40, p99Ms: 40 });
    expect(result.allDuring.count).toBe(40);
    expect(result.p99Ratio).toBe(4);
    expect(result.splitMs).toBe(1000);
    expect(result.requests).toBe(241);
    expect(result.failed).toBe(0);
  });

  it("counts failed writes by error and leaves them out of the latencies", () => {
    const samples = [...recordedSamples(), sample("g/k9", 1500, 999, "http503"), sample("g/k9", 1600, 999, "http503")];
    const result = summarizeReshape({ ...recording, samples });
    expect(result.failed).toBe(2);
    expect(result.errors).toEqual({ http503: 2 });
    expect(result.movedDuring.p99Ms).toBe(40);
  });

  it("has no split time and no moved keys when the split did not answer 201", () => {
    const result = summarizeReshape({ ...recording, splitStatus: 503, movedRanges: [], samples: recordedSamples() });
    expect(result.splitMs).toBeNull();
    expect(result.movedDuring.count).toBe(0);
    expect(result.p99Ratio).toBeNull();
  });
});

describe("the reshaping bar", () => {
  const recording = { plan: { keys: 10, clients: 8 }, splitBeganMs: 1000, splitEndedMs: 2000, splitStatus: 201, newGroup: "g-hi", movedRanges: [{ start: "g/k5" }] };
  const barOf = (run: BenchRun) => barsOf(run).find((bar) => bar.id === "reshapeFailures");

  it("passes with no failed write and prints the split time and the ratio", () => {
    const run = { ...emptyRun(), reshape: summarizeReshape({ ...recording, samples: recordedSamples() }) };
    expect(barOf(run)?.pass).toBe(true);
    expect(barOf(run)?.measured).toContain("split took 1000 ms");
    expect(barOf(run)?.measured).toContain("= 4.00x");
    expect(reportText(run)).toContain("[PASS] http-wrangler  0 failed writes while splitting a group of 10 keys");
  });

  it("fails on one failed write, on a failed split, and when the scenario could not run; is absent when it did not run", () => {
    const failedWrite = { ...emptyRun(), reshape: summarizeReshape({ ...recording, samples: [...recordedSamples(), sample("g/k9", 1500, 1, "timeout")] }) };
    expect(barOf(failedWrite)?.pass).toBe(false);
    expect(barOf(failedWrite)?.measured).toContain('{"timeout":1}');
    const failedSplit = { ...emptyRun(), reshape: summarizeReshape({ ...recording, splitStatus: 503, movedRanges: [], samples: recordedSamples() }) };
    expect(barOf(failedSplit)?.pass).toBe(false);
    expect(barOf({ ...emptyRun(), reshapeError: "Error: loading 10 keys wrote 3" })?.pass).toBe(false);
    expect(barOf(emptyRun())).toBeUndefined();
  });
});
