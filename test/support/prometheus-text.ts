/**
 * A strict checker of the Prometheus text exposition format (0.0.4) for the tests, beside the
 * lenient third-party parser: every line's grammar, one HELP and TYPE per family before its
 * samples, sample names that belong to their family, `_total` counters, no repeated series,
 * and histograms whose buckets are cumulative and end in `+Inf` equal to `_count`.
 */

const metricName = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const labelPair = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const sampleLine = new RegExp(`^(${metricName})(\\{(?:${labelPair}(?:,${labelPair})*)?\\})? (-?[0-9.e+-]+|NaN|\\+Inf|-Inf)$`);
const helpLine = new RegExp(`^# HELP (${metricName}) (.*)$`);
const typeLine = new RegExp(`^# TYPE (${metricName}) (counter|gauge|histogram|summary|untyped)$`);

/** The problems found in `text`; empty when it is valid. */
export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith("\n")) problems.push("the text does not end with a newline");
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const buckets = new Map<string, number[]>();
  const counts = new Map<string, number>();
  let current: string | undefined;
  text.split("\n").slice(0, -1).forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    const help = helpLine.exec(line);
    const type = typeLine.exec(line);
    if (help !== null) {
      current = help[1];
      return;
    }
    if (type !== null) {
      if (types.has(type[1]!)) problems.push(`${where}: a second TYPE`);
      if (type[1] !== current) problems.push(`${where}: TYPE without its HELP just before`);
      types.set(type[1]!, type[2]!);
      if (type[2] === "counter" && !type[1]!.endsWith("_total")) problems.push(`${where}: a counter's name must end in _total`);
      return;
    }
    const sample = sampleLine.exec(line);
    if (sample === null) return void problems.push(`${where}: not a sample, HELP or TYPE line`);
    const name = sample[1]!;
    const labels = sample[2] ?? "";
    const family = current === undefined ? undefined : types.get(current);
    const allowed = family === "histogram" ? [`${current}_bucket`, `${current}_sum`, `${current}_count`] : [current];
    if (family === undefined || !allowed.includes(name)) return void problems.push(`${where}: sample outside its family's TYPE`);
    if (seen.has(`${name}${labels}`)) problems.push(`${where}: the same series twice`);
    seen.add(`${name}${labels}`);
    const value = Number(sample[3]!.replace("+Inf", "Infinity"));
    if (family === "counter" && !(value >= 0)) problems.push(`${where}: a counter below 0`);
    if (family === "histogram") {
      // A series is its family and labels without le: two histogram families may share label sets.
      const series = `${current}${labels.replace(/,?le="[^"]*"/, "").replace("{,", "{").replace("{}", "")}`;
      if (name.endsWith("_bucket")) buckets.set(series, [...(buckets.get(series) ?? []), value]);
      if (name.endsWith("_count")) counts.set(series, value);
      if (name.endsWith("_bucket") && !/le="[^"]+"/.test(labels)) problems.push(`${where}: a bucket without le`);
    }
  });
  for (const [series, values] of buckets) {
    if (values.some((value, index) => index > 0 && value < values[index - 1]!)) problems.push(`histogram ${series}: buckets are not cumulative`);
    if (values.at(-1) !== counts.get(series)) problems.push(`histogram ${series}: the +Inf bucket differs from _count`);
  }
  return problems;
}
