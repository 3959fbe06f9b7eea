/**
 * Checks a history file (JSON Lines, Jepsen's event model) for linearizability.
 * Usage: npm run check-history -- FILE [--steps-max N]
 * Exit codes: 0 linearizable, 1 not linearizable, 2 malformed input or bad usage, 3 search budget exceeded.
 */
import { readFileSync } from "node:fs";
import { checkHistory, checkStepsMaxDefault, describeKeyFailure, describeSummary, parseHistory } from "../src/checker/index.ts";

const usage = "usage: npm run check-history -- FILE [--steps-max N]";

function main(argumentsList: readonly string[]): number {
  const parsed = parseArguments(argumentsList);
  if (typeof parsed === "string") {
    console.error(parsed);
    console.error(usage);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(parsed.file, "utf8");
  } catch (error) {
    console.error(`cannot read ${parsed.file}: ${error instanceof Error ? error.message : String(error)}`);
    console.error(usage);
    return 2;
  }
  const history = parseHistory(text);
  if (!history.ok) {
    console.error(`${parsed.file}:${history.line}: ${history.message}`);
    return 2;
  }
  const result = checkHistory(history.operations, { stepsMax: parsed.stepsMax });
  if (result.outcome === "violation") {
    console.log(describeSummary(result));
    for (const key of result.keys) {
      if (key.outcome === "violation") for (const line of describeKeyFailure(key)) console.log(line);
    }
    return 1;
  }
  if (result.outcome === "unknown") {
    const undecided = result.keys.filter((key) => key.outcome === "unknown").map((key) => JSON.stringify(key.key));
    console.error(`unknown: the search budget of ${parsed.stepsMax} steps ran out on key(s) ${undecided.join(", ")}`);
    console.error("raise it with --steps-max N");
    return 3;
  }
  console.log(describeSummary(result));
  return 0;
}

function parseArguments(argumentsList: readonly string[]): { file: string; stepsMax: number } | string {
  let file: string | null = null;
  let stepsMax = checkStepsMaxDefault;
  for (let index = 0; index < argumentsList.length; index++) {
    const argument = argumentsList[index]!;
    if (argument === "--steps-max") {
      const text = argumentsList[++index];
      const value = Number(text);
      if (text === undefined || !Number.isSafeInteger(value) || value < 0) return `--steps-max needs a non-negative integer`;
      stepsMax = value;
    } else if (argument.startsWith("--")) {
      return `unknown option ${argument}`;
    } else if (file === null) {
      file = argument;
    } else {
      return `unexpected argument ${argument}`;
    }
  }
  if (file === null) return "missing history file";
  return { file, stepsMax };
}

process.exitCode = main(process.argv.slice(2));
