/**
 * What a run means: ratios between scenarios measured in the same run, the three bars of issue 4
 * as PASS/FAIL (the latency bar as issue 13 restated it), and the table `npm run bench` prints.
 * Pure: data in, data or text out.
 */
import { findCell, modeLabels, round, type BenchRun, type Cell, type Mode, type Operation, type ScenarioId } from "./results.ts";
import { scenarios } from "./scenarios.ts";

/** A ratio of throughputs between two scenarios, in one mode, operation and concurrency. */
export interface Ratio {
  mode: Mode;
  name: "(b)/(a)" | "(c4)/(b)" | "(c16)/(b)";
  operation: Operation;
  concurrency: number;
  /** Null when either side was not measured or measured nothing. */
  value: number | null;
}

/** One bar, judged in one mode. `pass` is null when its cells were not measured. */
export interface BarResult {
  id: "writeScaling" | "readVsStale" | "writeLatency" | "reshapeFailures";
  mode: Mode;
  statement: string;
  measured: string;
  pass: boolean | null;
}

const ratioPairs: { name: Ratio["name"]; top: ScenarioId; bottom: ScenarioId }[] = [
  { name: "(b)/(a)", top: "b", bottom: "a" },
  { name: "(c4)/(b)", top: "c4", bottom: "b" },
  { name: "(c16)/(b)", top: "c16", bottom: "b" },
];

const ratioOperations: readonly Operation[] = ["write", "read", "staleRead"];

/** Every ratio of the run. */
export function ratiosOf(run: BenchRun): Ratio[] {
  const ratios: Ratio[] = [];
  for (const mode of run.settings.modes) {
    for (const pair of ratioPairs) {
      for (const concurrency of run.settings.concurrencies) {
        for (const operation of ratioOperations) {
          const top = findCell(run.cells, mode, pair.top, operation, concurrency);
          const bottom = findCell(run.cells, mode, pair.bottom, operation, concurrency);
          ratios.push({ mode, name: pair.name, operation, concurrency, value: divide(top?.throughputPerSecond, bottom?.throughputPerSecond) });
        }
      }
    }
  }
  return ratios;
}

/** The three bars, judged in every mode of the run. */
export function barsOf(run: BenchRun): BarResult[] {
  const bars: BarResult[] = [];
  const highest = Math.max(...run.settings.concurrencies);
  for (const mode of run.settings.modes) {
    const cell = (scenario: ScenarioId, operation: Operation, concurrency: number) => findCell(run.cells, mode, scenario, operation, concurrency);
    const scaling = divide(cell("b", "write", highest)?.throughputPerSecond, cell("a", "write", highest)?.throughputPerSecond);
    bars.push({
      id: "writeScaling",
      mode,
      statement: `(b)/(a) writes/s at concurrency ${highest} >= 0.5`,
      measured: scaling === null ? "not measured" : `${scaling.toFixed(2)}`,
      pass: scaling === null ? null : scaling >= 0.5,
    });
    const perConcurrency = run.settings.concurrencies.map((concurrency) => ({
      concurrency,
      value: divide(cell("b", "read", concurrency)?.throughputPerSecond, cell("b", "staleRead", concurrency)?.throughputPerSecond),
    }));
    const judged = perConcurrency.find((entry) => entry.concurrency === highest)?.value ?? null;
    bars.push({
      id: "readVsStale",
      mode,
      statement: `(b) linearizable reads/s >= 0.8 x stale reads/s at concurrency ${highest}`,
      measured: perConcurrency.map((entry) => `c=${entry.concurrency}: ${entry.value === null ? "-" : entry.value.toFixed(2)}`).join(", "),
      pass: judged === null ? null : judged >= 0.8,
    });
    bars.push(writeLatencyBar(run, mode));
  }
  if (run.reshape !== undefined || run.reshapeError !== undefined) bars.push(reshapeBar(run));
  return bars;
}

/** Issue 8's bar: a live split under writes fails none of the clients' requests (the time and p99 ratio are reported beside it). */
function reshapeBar(run: BenchRun): BarResult {
  const reshape = run.reshape;
  const statement = `0 failed writes while splitting a group of ${reshape?.keys ?? "its"} keys at its median under ${reshape?.clients ?? 8} writers`;
  if (reshape === undefined) return { id: "reshapeFailures", mode: "http-wrangler", statement, measured: `the scenario failed: ${run.reshapeError ?? "?"}`, pass: false };
  const errors = reshape.failed > 0 ? ` ${JSON.stringify(reshape.errors)}` : "";
  const ratio = reshape.p99Ratio === null ? "-" : reshape.p99Ratio.toFixed(2);
  return {
    id: "reshapeFailures",
    mode: "http-wrangler",
    statement,
    measured: `${reshape.failed} of ${reshape.requests}${errors}; split ${reshape.splitMs === null ? `answered ${reshape.splitStatus}` : `took ${formatMs(reshape.splitMs)} ms`};`
      + ` moved keys' write p99 ${formatMs(reshape.movedDuring.p99Ms)} ms during vs ${formatMs(reshape.movedBefore.p99Ms)} ms before = ${ratio}x`
      + ` (p50 ${formatMs(reshape.movedDuring.p50Ms)} vs ${formatMs(reshape.movedBefore.p50Ms)}; ${reshape.movedDuring.count} and ${reshape.movedBefore.count} writes)`,
    pass: reshape.failed === 0 && reshape.splitStatus === 201,
  };
}

/** What the latency bar allows the engine and the state machine on top of the measured floor. */
export const engineLatencyAllowanceMs = 0.5;

/**
 * (b)'s write p50 at concurrency 1 against (a)'s, plus the floor of replication on this machine,
 * plus an allowance for the engine and the state machine. The floor is what the probe's bare
 * replicated step (a row, two peers each writing a row, the first answer, a second row; no engine,
 * wire or state machine) costs over a row alone, which (a) already pays. What is left of (b)'s
 * p50 after (a) and the floor is the engine's own share: that is what the bar guards.
 */
function writeLatencyBar(run: BenchRun, mode: Mode): BarResult {
  const statement = `(b) write p50 at concurrency 1 <= (a) write p50 + the probe's bare replicated step + ${formatMs(engineLatencyAllowanceMs)} ms for engine and state machine`;
  const baseline = findCell(run.cells, mode, "a", "write", 1);
  const replicated = findCell(run.cells, mode, "b", "write", 1);
  const step = run.roundTrips.objectToObject?.writeStep;
  if (baseline === undefined || replicated === undefined || step === undefined) return { id: "writeLatency", mode, statement, measured: "not measured", pass: null };
  const floorMs = round(step.replicatedMs - step.soloMs);
  const allowedMs = baseline.p50Ms + floorMs + engineLatencyAllowanceMs;
  const engineShareMs = replicated.p50Ms - baseline.p50Ms - floorMs;
  return {
    id: "writeLatency",
    mode,
    statement,
    measured: `${formatMs(replicated.p50Ms)} ms vs (a) ${formatMs(baseline.p50Ms)} + step ${formatMs(floorMs)}`
      + ` (probe: ${formatMs(step.replicatedMs)} with two peers - ${formatMs(step.soloMs)} alone) + engine ${formatMs(engineLatencyAllowanceMs)} = ${formatMs(allowedMs)} ms;`
      + ` engine and state machine took ${formatSignedMs(engineShareMs)} ms`,
    pass: replicated.p50Ms <= allowedMs + 1e-9, // a sum of decimals: 1.0 + 1.1 + 0.5 is 2.6000000000000005
  };
}

/** The whole report as text: settings, one table per mode, the ratios and the bars. */
export function reportText(run: BenchRun): string {
  const lines: string[] = [];
  const { settings } = run;
  lines.push(`edgeraft benchmark${run.quick ? " (quick)" : ""}: ${run.startedAt}, ${run.machine.cpus} CPUs, Node ${run.machine.node}`);
  lines.push(`${settings.valueBytes}-byte values, ${settings.keysPerPrefix} keys per prefix, closed loop, ${settings.cellDurationMs} ms per cell in ${settings.rounds} alternating rounds`);
  lines.push(`source: commit ${run.source.commit}, ${run.source.uncommittedSourceFiles} uncommitted files under src/ (bundled once at the start)`);
  lines.push(`runtimes: ${run.runtimes.map((runtime) => `${runtime.name} (workerd ${runtime.workerdVersion})`).join(", ")}`);
  for (const trip of run.roundTrips.workerToObject) lines.push(`round trip Worker -> replica object (${trip.runtime}): mean ${formatMs(trip.meanMs)} ms over ${trip.count}`);
  const trips = run.roundTrips.objectToObject;
  if (trips !== undefined) {
    lines.push(`round trip object -> object (miniflare): empty ${formatMs(trips.emptyMs)} ms, with a row written on each side ${formatMs(trips.withWriteMs)} ms`
      + ` (before and after the load: ${trips.samplesWithWriteMs.map(formatMs).join(", ")} ms)`);
    lines.push(`write step with no engine (miniflare probe): a row and its flush ${formatMs(trips.writeStep.soloMs)} ms;`
      + ` with two peers (a row, both peers write a row, first answer, a second row) ${formatMs(trips.writeStep.replicatedMs)} ms`);
  }
  for (const mode of settings.modes) lines.push("", ...modeTable(run, mode));
  lines.push("", ...ratioTable(run));
  lines.push("", "bars:");
  for (const bar of barsOf(run)) lines.push(`  [${bar.pass === null ? "n/a " : bar.pass ? "PASS" : "FAIL"}] ${bar.mode.padEnd(14)} ${bar.statement}: ${bar.measured}`);
  return lines.join("\n");
}

function modeTable(run: BenchRun, mode: Mode): string[] {
  const header = `${"scenario".padEnd(27)} conc | ${"writes/s".padStart(8)} ${"p50".padStart(6)} ${"p99".padStart(6)} | ${"reads/s".padStart(8)} ${"p50".padStart(6)} ${"p99".padStart(6)} | ${"stale/s".padStart(8)} ${"p50".padStart(6)} ${"p99".padStart(6)}`;
  const resolution = mode.startsWith("runtime-") ? "; the clock inside workerd ticks in whole ms" : "";
  const lines = [`${mode}: ${modeLabels[mode]} (latencies in ms${resolution}; ! = some operations failed)`, header, "-".repeat(header.length)];
  for (const scenario of scenarios) {
    for (const concurrency of run.settings.concurrencies) {
      const parts = (["write", "read", "staleRead"] as const).map((operation) => cellColumns(findCell(run.cells, mode, scenario.id, operation, concurrency)));
      lines.push(`${scenario.label.padEnd(27)} ${String(concurrency).padStart(4)} | ${parts.join(" | ")}`);
    }
  }
  return lines;
}

function cellColumns(cell: Cell | undefined): string {
  if (cell === undefined) return `${"-".padStart(8)} ${"-".padStart(6)} ${"-".padStart(6)}`;
  const failed = cell.failed > 0 ? "!" : " ";
  return `${(String(Math.round(cell.throughputPerSecond)) + failed).padStart(8)} ${formatMs(cell.p50Ms).padStart(6)} ${formatMs(cell.p99Ms).padStart(6)}`;
}

function ratioTable(run: BenchRun): string[] {
  const ratios = ratiosOf(run);
  const header = `${"ratio of throughputs".padEnd(30)} conc | ${"writes".padStart(6)} ${"reads".padStart(6)} ${"stale".padStart(6)}`;
  const lines = ["ratios (same run)", header, "-".repeat(header.length)];
  for (const mode of run.settings.modes) {
    for (const pair of ratioPairs) {
      for (const concurrency of run.settings.concurrencies) {
        const values = ratioOperations.map((operation) => {
          const ratio = ratios.find((r) => r.mode === mode && r.name === pair.name && r.operation === operation && r.concurrency === concurrency);
          return (ratio?.value === null || ratio === undefined ? "-" : ratio.value.toFixed(2)).padStart(6);
        });
        lines.push(`${`${pair.name} ${mode}`.padEnd(30)} ${String(concurrency).padStart(4)} | ${values.join(" ")}`);
      }
    }
  }
  return lines;
}

/** A difference in milliseconds for display, which may be negative (one decimal). */
function formatSignedMs(value: number): string {
  return value.toFixed(1);
}

/** Milliseconds for display: one decimal under 10, whole numbers above. */
export function formatMs(value: number): string {
  return value < 10 ? value.toFixed(1) : String(Math.round(value));
}

function divide(top: number | undefined, bottom: number | undefined): number | null {
  if (top === undefined || bottom === undefined || bottom <= 0) return null;
  return round(top / bottom);
}
