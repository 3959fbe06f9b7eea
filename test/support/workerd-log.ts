/**
 * Sorts workerd's log messages, as the Workers Vitest plugin prints them (one write per message),
 * into aborts a test injected on purpose and everything else. An injected abort is exactly an
 * "uncaught exception" whose broken output gate carries an error with the injected-fault marker
 * (src/shared/injected-fault.ts); any other uncaught exception is unexpected.
 */
import { injectedFaultMarker } from "../../src/shared/injected-fault.ts";

const escapedMarker = injectedFaultMarker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** workerd's report of an object aborted (`ctx.abort`) with an injected fault's message. */
const injectedAbortPattern = new RegExp(`^uncaught exception; exception = [^\\n]*: failed: broken\\.outputGateBroken; jsg\\.Error: [^\\n]*${escapedMarker} `);

/** Any uncaught exception workerd reports. */
const uncaughtExceptionPattern = /^uncaught exception\b/m;

/** How a workerd log message is classified. */
export type WorkerdMessageKind = "injected-abort" | "unexpected-uncaught-exception" | "other";

/** Classifies one workerd log message (its first line decides an injected abort). */
export function classifyWorkerdMessage(message: string): WorkerdMessageKind {
  if (injectedAbortPattern.test(message)) return "injected-abort";
  if (uncaughtExceptionPattern.test(message)) return "unexpected-uncaught-exception";
  return "other";
}

/** The line printed before every unexpected uncaught exception, so it stands out in a CI log. */
export const unexpectedBanner = "!!! UNEXPECTED uncaught exception in workerd (not an injected fault):";

/** Counts of what a filter saw. */
export interface WorkerdLogCounts {
  injectedAborts: number;
  unexpected: number;
}

/**
 * Wraps `stream.write` so injected aborts are counted and not printed, and unexpected uncaught
 * exceptions are printed after a banner. Returns the counts (live) and a function that restores
 * the stream.
 */
export function filterWorkerdLog(stream: NodeJS.WriteStream, counts: WorkerdLogCounts): () => void {
  const original = stream.write;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : undefined;
    const kind = text === undefined ? "other" : classifyWorkerdMessage(text);
    if (kind === "injected-abort") {
      counts.injectedAborts++;
      const callback = rest.find((argument) => typeof argument === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }
    if (kind === "unexpected-uncaught-exception") {
      counts.unexpected++;
      return (original as (chunk: string, ...rest: unknown[]) => boolean).call(this, `${unexpectedBanner}\n${text}`, ...rest);
    }
    return (original as (chunk: unknown, ...rest: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  stream.write = write as typeof stream.write;
  return () => {
    stream.write = original;
  };
}
