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
  const records: EventRecord[] = [];
  /** The 1-based line number of each record, to report pairing errors where they occur. */
  const lines: number[] = [];
  const textLines = text.split("\n");
  for (let lineIndex = 0; lineIndex < textLines.length; lineIndex++) {
    const lineText = textLines[lineIndex]!.trim();
    if (lineText === "") continue;
    const line = lineIndex + 1;
    let raw: unknown;
    try {
      raw = JSON.parse(lineText);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, line, message: `invalid JSON: ${reason}` };
    }
    const result = readEvent(raw);
    if (!result.ok) return { ok: false, line, message: result.message };
    records.push(result.record);
    lines.push(line);
  }
  const paired = pairEvents(records);
  if (!paired.ok) return { ok: false, line: lines[paired.position]!, message: paired.message };
  return paired;
}

/** Serializes events as JSON Lines, one event per line, ending with a newline. */
export function formatHistory(events: readonly HistoryEvent[]): string {
  return events.map((event) => JSON.stringify(event) + "\n").join("");
}
