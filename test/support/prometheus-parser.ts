/**
 * Parses Prometheus text format with the official Python client's parser
 * (`prometheus_client.parser`, Debian's python3-prometheus-client, which .ci/run installs), so the
 * tests check /metrics against an implementation that is not ours. It raises on malformed input.
 */
import { spawnSync } from "node:child_process";

/** One parsed sample. Counter samples keep their `_total` name; their family's name drops it. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** One parsed family. */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly ParsedSample[];
}

const script = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
try:
    families = [{"name": f.name, "type": f.type, "help": f.documentation,
                 "samples": [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]}
                for f in text_string_to_metric_families(sys.stdin.read())]
    print(json.dumps({"families": families}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__ + ": " + str(error)}))
`;

/** The families of `text`, or a thrown Error carrying the parser's complaint. */
export function parsePrometheusText(text: string): ParsedFamily[] {
  const run = spawnSync("/usr/bin/python3", ["-c", script], { input: text, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`python3 prometheus_client failed (is python3-prometheus-client installed?): ${run.stderr}`);
  const answer = JSON.parse(run.stdout) as { families?: ParsedFamily[]; error?: string };
  if (answer.error !== undefined) throw new Error(`the Prometheus parser refused the text: ${answer.error}`);
  return answer.families!;
}
