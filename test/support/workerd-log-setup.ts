/**
 * Global setup of the workerd test run (vitest.workers.config.ts), in Vitest's main process where
 * the Workers Vitest plugin prints workerd's log: aborts the tests inject on purpose are counted,
 * not printed; any other uncaught exception is printed after a banner and fails the run.
 */
import { filterWorkerdLog, type WorkerdLogCounts } from "./workerd-log.ts";

const counts: WorkerdLogCounts = { injectedAborts: 0, unexpected: 0 };
const restores: (() => void)[] = [];

/** Starts filtering workerd's log on stdout and stderr. */
export function setup(): void {
  restores.push(filterWorkerdLog(process.stderr, counts), filterWorkerdLog(process.stdout, counts));
}

/** Stops filtering and reports what was seen; unexpected uncaught exceptions fail the run. */
export function teardown(): void {
  for (const restore of restores.splice(0)) restore();
  console.log(`workerd log: ${counts.injectedAborts} expected aborts of injected faults (not printed), ${counts.unexpected} unexpected uncaught exceptions`);
  if (counts.unexpected > 0) {
    console.error(`workerd reported ${counts.unexpected} uncaught exceptions that no test injected (printed above after "!!! UNEXPECTED"): failing the run`);
    process.exitCode = 1;
  }
}
