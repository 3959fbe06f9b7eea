/**
 * The marker that opens the message of every fault injected on purpose (a crash through the fault
 * routes, a store a test sabotages). When such a fault aborts a Durable Object, workerd logs an
 * "uncaught exception" carrying this message; the marker is how a log reader (and the test
 * harness, test/support/workerd-log.ts) tells an expected abort from a real one.
 */

/** Opens the message of an injected fault; never part of an error the system raises by itself. */
export const injectedFaultMarker = "[injected fault]";

/** The message of an injected fault: the marker, then what was injected. */
export function injectedFaultMessage(what: string): string {
  return `${injectedFaultMarker} ${what}`;
}
