/**
 * Structured logs: one JSON line per notable event (`{"level","event","time",...fields}`; fields cannot replace those three) on the
 * console, which wrangler dev prints and Cloudflare keeps in Workers Logs. Quiet at the default
 * level (`warn`): routine events (groups created and removed, splits, merges, range moves,
 * automatic balance decisions) are `info`; failures (a request that ended in a 5xx, a balance that
 * failed) are `warn`. The host sets the level from the LOG_LEVEL var; one level per isolate.
 */

/** The levels, from the most to the least verbose; `off` prints nothing. */
export const logLevels = ["debug", "info", "warn", "error", "off"] as const;

/** A log level. */
export type LogLevel = (typeof logLevels)[number];

/** The level when LOG_LEVEL is absent or not a level. */
export const logLevelDefault: LogLevel = "warn";

let threshold = logLevels.indexOf(logLevelDefault);

/** Sets this isolate's level from a LOG_LEVEL text (case-insensitive); anything else means the default. */
export function setLogLevel(text: string | undefined): LogLevel {
  const asked = text?.trim().toLowerCase();
  const level = logLevels.find((candidate) => candidate === asked) ?? logLevelDefault;
  threshold = logLevels.indexOf(level);
  return level;
}

/** True when events at `level` are printed. */
export function logs(level: Exclude<LogLevel, "off">): boolean {
  return logLevels.indexOf(level) >= threshold;
}

/** Prints one JSON line for `event` when `level` is enabled; `fields` carry group, replica and the rest where known. */
export function logEvent(level: Exclude<LogLevel, "off">, event: string, fields: Record<string, unknown> = {}): void {
  if (!logs(level)) return;
  const line: Record<string, unknown> = { level, event, time: new Date().toISOString() };
  for (const [name, value] of Object.entries(fields)) if (!(name in line)) line[name] = value;
  console.log(JSON.stringify(line));
}
