/**
 * The run drawn as an SVG a person can look at, written as text (no chart library): one column per
 * mode; rows for writes/s and linearizable reads/s (bars per scenario and concurrency) and for
 * write latency (p50 bar over a lighter p99 bar, log scale). Scenario labels read "groups x replicas".
 */
import { findCell, modeLabels, type BenchRun, type Mode, type Operation } from "./results.ts";
import { scenarios } from "./scenarios.ts";

const panelWidth = 360;
const panelHeight = 230;
const gap = 24;
const plotLeft = 52;
const plotRight = 10;
const plotTop = 44;
const plotBottom = 34;
const concurrencyColors = ["#9ecae1", "#4292c6", "#08306b"];
const p99Colors = ["#fdd0a2", "#fd8d3c", "#a63603"];

interface Bar {
  value: number;
  color: string;
  label?: string;
}

interface Panel {
  title: string;
  subtitle: string;
  groups: { label: string; bars: Bar[][] }[];
  scale: "linear" | "log";
}

/** The SVG document for `run`. */
export function chartSvg(run: BenchRun): string {
  const columns = run.settings.modes;
  const width = gap + columns.length * (panelWidth + gap);
  const rows = 3;
  const headerHeight = 74;
  const height = headerHeight + rows * (panelHeight + gap) + 10;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(text(gap, 24, `edgeraft benchmark${run.quick ? " (quick)" : ""}, ${run.startedAt.slice(0, 16).replace("T", " ")} UTC, ${run.machine.cpus} CPUs`, 16, "start", "bold"));
  parts.push(text(gap, 44, `${run.settings.valueBytes}-byte values, closed loop, ${run.settings.cellDurationMs} ms per cell in ${run.settings.rounds} rounds, commit ${run.source.commit}; bars per scenario (groups x replicas) at concurrency ${run.settings.concurrencies.join(", ")}`, 11));
  parts.push(legend(gap, 60, run.settings.concurrencies));
  columns.forEach((mode, column) => {
    const x = gap + column * (panelWidth + gap);
    parts.push(panelSvg(x, headerHeight, throughputPanel(run, mode, "write", "writes/s")));
    parts.push(panelSvg(x, headerHeight + panelHeight + gap, throughputPanel(run, mode, "read", "linearizable reads/s")));
    parts.push(panelSvg(x, headerHeight + 2 * (panelHeight + gap), latencyPanel(run, mode)));
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function throughputPanel(run: BenchRun, mode: Mode, operation: Operation, what: string): Panel {
  return {
    title: what,
    subtitle: `${mode}: ${modeLabels[mode]}`,
    scale: "linear",
    groups: scenarios.map((scenario) => ({
      label: scenario.shortLabel,
      bars: run.settings.concurrencies.map((concurrency, index) => {
        const value = findCell(run.cells, mode, scenario.id, operation, concurrency)?.throughputPerSecond ?? 0;
        return [{ value, color: concurrencyColors[index % concurrencyColors.length]!, label: String(Math.round(value)) }];
      }),
    })),
  };
}

function latencyPanel(run: BenchRun, mode: Mode): Panel {
  return {
    title: "write latency, ms (log): p50 blue over p99 orange",
    subtitle: `${mode}: ${modeLabels[mode]}`,
    scale: "log",
    groups: scenarios.map((scenario) => ({
      label: scenario.shortLabel,
      bars: run.settings.concurrencies.map((concurrency, index) => {
        const cell = findCell(run.cells, mode, scenario.id, "write", concurrency);
        return [
          { value: cell?.p99Ms ?? 0, color: p99Colors[index % p99Colors.length]!, label: cell === undefined ? "" : String(Math.round(cell.p99Ms)) },
          { value: cell?.p50Ms ?? 0, color: concurrencyColors[index % concurrencyColors.length]! },
        ];
      }),
    })),
  };
}

function panelSvg(x: number, y: number, panel: Panel): string {
  const parts: string[] = [`<g transform="translate(${x},${y})">`];
  parts.push(`<rect width="${panelWidth}" height="${panelHeight}" fill="#fafafa" stroke="#dddddd"/>`);
  parts.push(text(8, 17, panel.title, 11, "start", "bold"));
  parts.push(text(8, 31, panel.subtitle, 9));
  const plotWidth = panelWidth - plotLeft - plotRight;
  const plotHeight = panelHeight - plotTop - plotBottom;
  const values = panel.groups.flatMap((group) => group.bars.flat().map((bar) => bar.value));
  const axis = panel.scale === "log" ? logAxis(values) : linearAxis(values);
  for (const tick of axis.ticks) {
    const tickY = plotTop + plotHeight - axis.position(tick) * plotHeight;
    parts.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${fixed(tickY)}" y2="${fixed(tickY)}" stroke="#e3e3e3"/>`);
    parts.push(text(plotLeft - 4, tickY + 3, formatTick(tick), 9, "end"));
  }
  const groupWidth = plotWidth / panel.groups.length;
  panel.groups.forEach((group, groupIndex) => {
    const barWidth = (groupWidth - 12) / group.bars.length;
    group.bars.forEach((stack, barIndex) => {
      const barX = plotLeft + groupIndex * groupWidth + 6 + barIndex * barWidth;
      for (const bar of stack) {
        const barHeight = axis.position(bar.value) * plotHeight;
        const barY = plotTop + plotHeight - barHeight;
        parts.push(`<rect x="${fixed(barX + 1)}" y="${fixed(barY)}" width="${fixed(barWidth - 2)}" height="${fixed(barHeight)}" fill="${bar.color}"/>`);
        if (bar.label !== undefined && bar.label !== "") parts.push(text(barX + barWidth / 2, barY - 3, bar.label, 8, "middle"));
      }
    });
    parts.push(text(plotLeft + groupIndex * groupWidth + groupWidth / 2, plotTop + plotHeight + 14, group.label, 9, "middle"));
  });
  parts.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${plotTop + plotHeight}" y2="${plotTop + plotHeight}" stroke="#888888"/>`);
  parts.push("</g>");
  return parts.join("\n");
}

function legend(x: number, y: number, concurrencies: readonly number[]): string {
  const items = concurrencies.map((concurrency, index) => {
    const itemX = x + index * 120;
    return `<rect x="${itemX}" y="${y - 9}" width="12" height="10" fill="${concurrencyColors[index % concurrencyColors.length]}"/>${text(itemX + 16, y, `concurrency ${concurrency}`, 11)}`;
  });
  const p99X = x + concurrencies.length * 120;
  const p99Swatches = concurrencies.map((_, index) => `<rect x="${p99X + index * 8}" y="${y - 9}" width="8" height="10" fill="${p99Colors[index % p99Colors.length]}"/>`);
  return [...items, ...p99Swatches, text(p99X + concurrencies.length * 8 + 4, y, "p99 (latency panels)", 11)].join("");
}

/** A linear axis from 0 with a round tick step (1, 2, 2.5 or 5 times a power of ten) and four or five ticks. */
function linearAxis(values: number[]): { ticks: number[]; position: (value: number) => number } {
  const step = niceStep((Math.max(1, ...values) * 1.1) / 4);
  const top = step * Math.ceil((Math.max(1, ...values) * 1.1) / step);
  const ticks: number[] = [];
  for (let tick = 0; tick <= top + step / 2; tick += step) ticks.push(tick);
  return { ticks, position: (value) => Math.max(0, Math.min(1, value / top)) };
}

/** A log axis over powers of ten covering the values; values under the floor sit on the floor. */
function logAxis(values: number[]): { ticks: number[]; position: (value: number) => number } {
  const positive = values.filter((value) => value > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(1, ...positive)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(10, ...positive) * 1.2));
  const ticks: number[] = [];
  for (let tick = low; tick <= high; tick *= 10) ticks.push(tick);
  const span = Math.log10(high) - Math.log10(low);
  return { ticks, position: (value) => (value <= low ? 0.01 : Math.min(1, (Math.log10(value) - Math.log10(low)) / span)) };
}

function niceStep(rough: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  for (const multiple of [1, 2, 2.5, 5]) if (multiple * magnitude >= rough) return multiple * magnitude;
  return 10 * magnitude;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toFixed(2))}k`;
  return String(Number(value.toFixed(2)));
}

function text(x: number, y: number, content: string, size: number, anchor: "start" | "middle" | "end" = "start", weight = "normal"): string {
  return `<text x="${fixed(x)}" y="${fixed(y)}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="#222222">${escapeXml(content)}</text>`;
}

function fixed(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Escapes the five XML special characters. */
export function escapeXml(content: string): string {
  return content.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
