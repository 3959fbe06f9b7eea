/**
 * The Prometheus text exposition format (version 0.0.4): families with HELP and TYPE lines, label
 * values escaped, histograms as cumulative `_bucket` series with `le`, plus `_sum` and `_count`.
 */

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a gauge or counter. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** Observations of one histogram series: counts per upper bound (not cumulative), their sum and count. */
export interface HistogramSeries {
  readonly labels: Labels;
  /** Observations at most bounds[i] and above bounds[i - 1], one per bound. */
  readonly bucketCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** A metric family to write. */
export type MetricFamily =
  | { readonly name: string; readonly help: string; readonly type: "gauge" | "counter"; readonly samples: readonly Sample[] }
  | { readonly name: string; readonly help: string; readonly type: "histogram"; readonly bounds: readonly number[]; readonly series: readonly HistogramSeries[] };

/** The content type of the text format. */
export const expositionContentType = "text/plain; version=0.0.4; charset=utf-8";

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  for (const name of names) if (!labelNamePattern.test(name)) throw new Error(`bad label name ${name}`);
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`).join(",")}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** The families as exposition text, ending with a newline. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!namePattern.test(family.name)) throw new Error(`bad metric name ${family.name}`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type !== "histogram") {
      for (const sample of family.samples) lines.push(`${family.name}${labelText(sample.labels)} ${numberText(sample.value)}`);
      continue;
    }
    for (const series of family.series) {
      let cumulative = 0;
      family.bounds.forEach((bound, index) => {
        cumulative += series.bucketCounts[index] ?? 0;
        lines.push(`${family.name}_bucket${labelText({ ...series.labels, le: numberText(bound) })} ${cumulative}`);
      });
      lines.push(`${family.name}_bucket${labelText({ ...series.labels, le: "+Inf" })} ${series.count}`);
      lines.push(`${family.name}_sum${labelText(series.labels)} ${numberText(series.sum)}`, `${family.name}_count${labelText(series.labels)} ${series.count}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
