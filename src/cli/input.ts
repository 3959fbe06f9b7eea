/** Reading what commands write: a value from an argument, a file or stdin, and JSON lines. */
import { readFileSync } from "node:fs";
import { UsageError } from "./output.ts";

/** All of stdin as bytes. */
export async function readStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Uint8Array);
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** The bytes of a file, or a UsageError naming it; `-` is stdin. */
export async function readInput(path: string): Promise<Uint8Array> {
  if (path === "-") return readStdin();
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The value of `put`: the argument, else --file, else stdin; never two of them. */
export async function valueInput(argument: string | undefined, file: string | undefined): Promise<string | Uint8Array> {
  if (argument !== undefined && file !== undefined) throw new UsageError("give the value as an argument or with --file, not both");
  if (argument !== undefined) return argument;
  return readInput(file ?? "-");
}

/** Parses JSON lines (blank lines skipped); a bad line is a UsageError with its number. */
export function parseJsonLines(text: string, source: string): { line: number; value: unknown }[] {
  const parsed: { line: number; value: unknown }[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    try {
      parsed.push({ line: index + 1, value: JSON.parse(line) });
    } catch {
      throw new UsageError(`${source}:${index + 1}: not JSON`);
    }
  }
  return parsed;
}

/** A non-negative integer flag, or undefined when absent; a UsageError otherwise. */
export function integerFlag(value: string | boolean | undefined, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== "string" || !Number.isSafeInteger(number) || number < minimum) throw new UsageError(`--${name} takes an integer of at least ${minimum}`);
  return number;
}
