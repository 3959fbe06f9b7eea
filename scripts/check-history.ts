/**
 * Checks a history file (JSON Lines, Jepsen's event model): a single-key history for
 * linearizability, or a transaction history (events with "f":"txn", see
 * src/checker/txn-history.ts) for strict serializability; the first event tells which.
 * Usage: npm run check-history -- FILE [--steps-max N]
 * Exit codes: 0 linearizable / strict serializable, 1 not, 2 malformed input or bad usage,
 * 3 search budget exceeded (single-key histories only).
 */
import { readFileSync } from "node:fs";
import {
  checkHistory,
  checkStepsMaxDefault,
  checkTxnHistory,
  describeKeyFailure,
  describeSummary,
  describeTxnAnomalies,
  describeTxnSummary,
  isTxnEventLine,
  parseHistory,
  parseTxnHistory,
} from "../src/checker/index.ts";

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
  if (isTransactionHistory(text)) return checkTransactions(parsed.file, text);
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

/** Whether the first event of `text` is a transaction (`"f":"txn"`); malformed text is left to the parsers. */
function isTransactionHistory(text: string): boolean {
  const first = text.split("\n").find((line) => line.trim() !== "");
  if (first === undefined) return false;
  try {
    return isTxnEventLine(JSON.parse(first));
  } catch {
    return false;
  }
}

function checkTransactions(file: string, text: string): number {
  const history = parseTxnHistory(text);
  if (!history.ok) {
    console.error(`${file}:${history.line}: ${history.message}`);
    return 2;
  }
  const result = checkTxnHistory(history.operations);
  console.log(describeTxnSummary(result));
  for (const line of describeTxnAnomalies(result, history.operations)) console.log(line);
  return result.valid ? 0 : 1;
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
