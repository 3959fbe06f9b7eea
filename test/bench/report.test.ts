/**
 * Proves that the benchmark's arithmetic and output are right without starting a runtime: on a
 * fixed, made-up run it checks the cell summaries, the ratios, each bar's PASS/FAIL, the printed
 * table, the JSON document and the SVG chart; and it runs the closed-loop load generator against
 * fake operations and a fake clock.
 */
import { describe, expect, it } from "vitest";
import { benchKeyOf, runClosedLoop } from "../../src/hosts/cloudflare/bench-load.ts";
import { chartSvg, escapeXml } from "../../scripts/bench/chart.ts";
import { barsOf, ratiosOf, reportText } from "../../scripts/bench/report.ts";
import { cellOf, mergeOutcomes, percentile, type BenchRun, type Cell, type Mode, type Operation, type ScenarioId } from "../../scripts/bench/results.ts";

const modes: Mode[] = ["runtime-miniflare", "http-wrangler"];
const scenarioIds: ScenarioId[] = ["a", "b", "c4", "c16"];
const operationNames: Operation[] = ["write", "read", "staleRead"];
const concurrencies = [1, 16, 64];

/** Made-up throughput: runtime writes scale badly from (a) to (b), wrangler's do not. */
function throughputOf(mode: Mode, scenario: ScenarioId, operation: Operation, concurrency: number): number {
  const base = { write: 200, read: 900, staleRead: 1000 }[operation] * (concurrency === 1 ? 1 : 2);
  const factor = { a: 1, b: mode === "runtime-miniflare" ? 0.25 : 0.9, c4: 1, c16: 1.5 }[scenario];
  return scenario === "a" ? base : base * factor;
}

function fakeRun(): BenchRun {
  const cells: Cell[] = [];
  for (const mode of modes) {
    for (const scenario of scenarioIds) {
      for (const operation of operationNames) {
        for (const concurrency of concurrencies) {
          const throughputPerSecond = throughputOf(mode, scenario, operation, concurrency);
          const p50Ms = scenario === "a" ? 4 : scenario === "b" && mode === "runtime-miniflare" ? 30 : 10;
          cells.push({ mode, scenario, operation, concurrency, completed: throughputPerSecond * 3, failed: 0, elapsedMs: 3000, throughputPerSecond, p50Ms, p99Ms: p50Ms * 5, meanMs: p50Ms * 1.2, errors: {} });
        }
      }
    }
  }
  return {
    schema: 1,
    command: "npm run bench",
    quick: false,
    startedAt: "2026-11-26T00:00:00.000Z",
    finishedAt: "2026-11-26T00:10:00.000Z",
    machine: { cpus: 2, node: "v22.23.3", platform: "linux-x64" },
    settings: { valueBytes: 100, keysPerPrefix: 32, cellDurationMs: 3000, rounds: 2, cellOperationsMax: 50_000, concurrencies, modes },
    source: { commit: "abc1234", uncommittedSourceFiles: 0 },
    runtimes: [{ name: "miniflare", workerdVersion: "1.0", compatibilityDate: "2026-04-26" }, { name: "wrangler dev", workerdVersion: "1.1" }],
    roundTrips: { workerToObject: [{ runtime: "miniflare", meanMs: 0.2, count: 100 }], objectToObject: { emptyMs: 0.1, withWriteMs: 3, samplesWithWriteMs: [2.5, 3.5], count: 100, writeStep: { soloMs: 0.2, replicatedMs: 0.9 } } },
    cells,
  };
}

describe("benchmark summaries", () => {
  it("takes percentiles by nearest rank", () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });

  it("merges rounds as if they were one run and summarizes them into a cell", () => {
    const merged = mergeOutcomes([
      { completed: 2, failed: 1, elapsedMs: 500, latenciesMs: [3, 1], errors: { unavailable: 1 } },
      { completed: 2, failed: 0, elapsedMs: 500, latenciesMs: [2, 4], errors: {} },
    ]);
    const cell = cellOf({ mode: "runtime-miniflare", scenario: "a", operation: "write", concurrency: 1 }, merged);
    expect(cell).toMatchObject({ completed: 4, failed: 1, elapsedMs: 1000, throughputPerSecond: 4, p50Ms: 2, p99Ms: 4, meanMs: 2.5, errors: { unavailable: 1 } });
  });
});

describe("ratios and bars", () => {
  it("divides throughputs of the same mode, operation and concurrency", () => {
    const ratios = ratiosOf(fakeRun());
    const find = (mode: Mode, name: string, operation: Operation, concurrency: number) =>
      ratios.find((ratio) => ratio.mode === mode && ratio.name === name && ratio.operation === operation && ratio.concurrency === concurrency)?.value;
    expect(find("runtime-miniflare", "(b)/(a)", "write", 64)).toBe(0.25);
    expect(find("http-wrangler", "(b)/(a)", "write", 64)).toBe(0.9);
    expect(find("runtime-miniflare", "(c16)/(b)", "read", 1)).toBe(6);
    expect(ratios).toHaveLength(modes.length * 3 * concurrencies.length * operationNames.length);
  });

  it("judges each bar per mode", () => {
    const bars = barsOf(fakeRun());
    const pass = (id: string, mode: Mode) => bars.find((bar) => bar.id === id && bar.mode === mode)?.pass;
    expect(pass("writeScaling", "runtime-miniflare")).toBe(false);
    expect(pass("writeScaling", "http-wrangler")).toBe(true);
    expect(pass("readVsStale", "http-wrangler")).toBe(true); // 0.9 x 900 / (0.9 x 1000)
    // The probe's step costs 0.9 ms with two peers and 0.2 alone: replication's floor is 0.7 ms.
    expect(pass("writeLatency", "runtime-miniflare")).toBe(false); // 30 > 4 + 0.7 + 0.5
    expect(pass("writeLatency", "http-wrangler")).toBe(false); // 10 > 4 + 0.7 + 0.5
  });

  it("judges the latency bar against (a), the probe's replication floor and the engine's 0.5 ms, and prints the parts", () => {
    const run = fakeRun();
    const setWriteP50 = (scenario: ScenarioId, p50Ms: number) => {
      for (const cell of run.cells) if (cell.mode === "http-wrangler" && cell.scenario === scenario && cell.operation === "write" && cell.concurrency === 1) cell.p50Ms = p50Ms;
    };
    const latencyBar = () => barsOf(run).find((bar) => bar.id === "writeLatency" && bar.mode === "http-wrangler")!;
    setWriteP50("a", 1.0);
    setWriteP50("b", 2.2); // exactly 1.0 + 0.7 + 0.5
    expect(latencyBar().pass).toBe(true);
    expect(latencyBar().statement).toBe("(b) write p50 at concurrency 1 <= (a) write p50 + the probe's bare replicated step + 0.5 ms for engine and state machine");
    expect(latencyBar().measured).toBe("2.2 ms vs (a) 1.0 + step 0.7 (probe: 0.9 with two peers - 0.2 alone) + engine 0.5 = 2.2 ms; engine and state machine took 0.5 ms");
    setWriteP50("b", 2.3);
    expect(latencyBar().pass).toBe(false);
    expect(latencyBar().measured).toContain("engine and state machine took 0.6 ms");
    setWriteP50("b", 1.5);
    expect(latencyBar().measured).toContain("engine and state machine took -0.2 ms");
  });

  it("reports a bar as not measured when its cells are missing", () => {
    const run = fakeRun();
    run.cells = run.cells.filter((cell) => cell.scenario !== "a");
    expect(barsOf(run).find((bar) => bar.id === "writeScaling")?.pass).toBeNull();
  });
});

describe("output", () => {
  it("prints one table per mode, the ratios and the bars", () => {
    const text = reportText(fakeRun());
    expect(text).toContain("writes/s");
    expect(text).toContain("(c) 16 groups x 3 replicas");
    expect(text).toMatch(/\(b\)\/\(a\) runtime-miniflare\s+64 \|\s+0\.25/);
    expect(text).toContain("[PASS]");
    expect(text).toContain("[FAIL]");
    expect(text).toContain("with two peers (a row, both peers write a row, first answer, a second row) 0.9 ms");
    expect(text).toContain("+ step 0.7 (probe: 0.9 with two peers - 0.2 alone) + engine 0.5 = 5.2 ms; engine and state machine took 25.3 ms");
  });

  it("writes a JSON document that reads back the same", () => {
    const run = fakeRun();
    const document = { ...run, ratios: ratiosOf(run), bars: barsOf(run) };
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it("draws an SVG with a bar per cell and no broken numbers", () => {
    const svg = chartSvg(fakeRun());
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(svg.match(/<g /g)?.length).toBe(svg.match(/<\/g>/g)?.length);
    // per mode: writes and reads (12 bars each), latency (12 p99 + 12 p50), plus 3 panel backgrounds
    const rects = svg.match(/<rect /g)?.length ?? 0;
    expect(rects).toBe(1 + 2 * concurrencies.length + modes.length * (3 + 12 + 12 + 24));
    expect(escapeXml(`<a & "b">`)).toBe("&lt;a &amp; &quot;b&quot;&gt;");
  });
});

describe("closed-loop load generator", () => {
  it("stops at the operation bound and counts failures and throws", async () => {
    let now = 0;
    const outcome = await runClosedLoop({ concurrency: 4, operationsMax: 10, durationMsMax: 100_000 }, async (sequence) => {
      now += 1;
      if (sequence === 3) throw new TypeError("boom");
      return sequence === 5 ? "unavailable" : undefined;
    }, () => now);
    expect(outcome.completed + outcome.failed).toBe(10);
    expect(outcome.errors).toEqual({ TypeError: 1, unavailable: 1 });
    expect(outcome.latenciesMs).toHaveLength(8);
  });

  it("stops at the time bound", async () => {
    let now = 0;
    const outcome = await runClosedLoop({ concurrency: 1, operationsMax: 1000, durationMsMax: 50 }, async () => {
      now += 10;
      return undefined;
    }, () => now);
    expect(outcome.completed).toBe(5);
    expect(outcome.elapsedMs).toBe(50);
  });

  it("spreads keys evenly over prefixes", () => {
    const keys = Array.from({ length: 8 }, (_, sequence) => benchKeyOf(["p/", "q/"], 2, sequence));
    expect(keys).toEqual(["p/k00000", "q/k00000", "p/k00001", "q/k00001", "p/k00000", "q/k00000", "p/k00001", "q/k00001"]);
  });
});
