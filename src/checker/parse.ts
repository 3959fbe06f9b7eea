/**
 * Parser of a history in JSON Lines: one event object per line, blank lines allowed.
 * Every error names the 1-based line it was found on.
 */
import type { HistoryEvent, Operation } from "./history.ts";
import { pairEvents } from "./pair-events.ts";
import { readEvent, type EventRecord } from "./read-event.ts";

/** A parsed history, or the first problem found and its line. */
export type ParseHistoryResult =
  | { ok: true; events: HistoryEvent[]; operations: Operation[] }
  | { ok: false; line: number; message: string };

/** Parses JSON Lines text into events and operations (see pairEvents for the pairing rules). */
export function parseHistory(text: string): ParseHistoryResult {
  const rows = readJsonLines(text);
  if (!rows.ok) return rows;
  const records: EventRecord[] = [];
  for (const { raw, line } of rows.rows) {
    const result = readEvent(raw);
    if (!result.ok) return { ok: false, line, message: result.message };
    records.push(result.record);
  }
  const paired = pairEvents(records);
  if (!paired.ok) return { ok: false, line: rows.rows[paired.position]!.line, message: paired.message };
  return paired;
}

/** The decoded values of the non-blank lines of JSON Lines text, each with its 1-based line number, or the first line that is not JSON. */
export function readJsonLines(text: string): { ok: true; rows: { raw: unknown; line: number }[] } | { ok: false; line: number; message: string } {
  const rows: { raw: unknown; line: number }[] = [];
  const textLines = text.split("\n");
  for (let lineIndex = 0; lineIndex < textLines.length; lineIndex++) {
    const lineText = textLines[lineIndex]!.trim();
    if (lineText === "") continue;
    const line = lineIndex + 1;
    try {
      rows.push({ raw: JSON.parse(lineText), line });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, line, message: `invalid JSON: ${reason}` };
    }
  }
  return { ok: true, rows };
}

/** Serializes events as JSON Lines, one event per line, ending with a newline. */
export function formatHistory(events: readonly HistoryEvent[]): string {
  return events.map((event) => JSON.stringify(event) + "\n").join("");
}
