/**
 * What the CLI prints and how it exits: aligned tables for people, JSON for scripts, and the exit
 * codes scripts can rely on (0 ok, 1 not found or condition failed, 2 usage, 3 server or network).
 */
import { EdgeraftNetworkError, EdgeraftProblem } from "../client/index.ts";

/** The exit codes, documented in the README and in `edgeraft --help`. */
export const exitCodes = { ok: 0, notFoundOrConditionFailed: 1, usage: 2, serverOrNetwork: 3 } as const;

/** Problem codes that mean "absent" or "a condition does not hold": exit 1. */
const conditionCodes = new Set(["notFound", "groupNotFound", "conditionFailed", "groupExists", "groupProtected", "txnConflict", "replicaNotFound", "transferFailed"]);

/** A usage error: printed with a hint to --help, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof EdgeraftProblem) {
    if (conditionCodes.has(error.code)) return exitCodes.notFoundOrConditionFailed;
    if (error.status >= 400 && error.status < 500 && error.status !== 429) return exitCodes.usage;
    return exitCodes.serverOrNetwork;
  }
  if (error instanceof EdgeraftNetworkError) return exitCodes.serverOrNetwork;
  return exitCodes.serverOrNetwork;
}

/** One line saying what went wrong, for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return `edgeraft: ${error.message} (see edgeraft --help)`;
  if (error instanceof EdgeraftProblem) return `edgeraft: ${error.status} ${error.code}: ${error.detail}`;
  if (error instanceof EdgeraftNetworkError) return `edgeraft: no answer: ${error.message} (after ${error.attempts} attempt${error.attempts === 1 ? "" : "s"})`;
  return `edgeraft: ${error instanceof Error ? error.message : String(error)}`;
}

/** Rows as an aligned table with a header line; numbers align right. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[], numeric: readonly boolean[]) =>
    row.map((cell, column) => (numeric[column] === true ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  const numericColumns = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === "number"));
  return [line(headers, numericColumns), ...cells.map((row) => line(row, numericColumns))].join("\n");
}

/** Writes a line to stdout. */
export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes `value` as one line of JSON to stdout. */
export function sayJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A value for a table cell: its text, shortened, or its size when it is not UTF-8. */
export function shownValue(text: string | null, bytes: number): string {
  if (text === null) return `<${bytes} bytes, not UTF-8>`;
  const flat = JSON.stringify(text).slice(1, -1);
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}
