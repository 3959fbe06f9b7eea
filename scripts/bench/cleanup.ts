/**
 * Everything the benchmark starts registers a stop function here; `stopAll` runs them once, in
 * reverse order, on success, on error and on Ctrl-C, so no runtime outlives the script.
 */

type Stopper = () => Promise<void>;

const stoppers: { name: string; stop: Stopper }[] = [];
let stopping: Promise<void> | undefined;
let interrupted = false;

/** Whether a signal asked us to stop (errors that follow are the runtime going away, not news). */
export function wasInterrupted(): boolean {
  return interrupted;
}

/** Registers `stop` for whatever was just started; returns a function that unregisters it. */
export function onCleanup(name: string, stop: Stopper): () => void {
  const entry = { name, stop };
  stoppers.push(entry);
  return () => {
    const position = stoppers.indexOf(entry);
    if (position >= 0) stoppers.splice(position, 1);
  };
}

/** Stops everything registered, newest first; each stop gets at most `timeoutMs`. */
export function stopAll(timeoutMs = 10_000): Promise<void> {
  stopping ??= (async () => {
    while (stoppers.length > 0) {
      const { name, stop } = stoppers.pop()!;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([stop().catch((error: unknown) => console.error(`bench: stopping ${name} failed: ${String(error)}`)), timeout]);
    }
  })();
  return stopping;
}

/** On SIGINT or SIGTERM: stop everything, then exit with 130 or 143. */
export function stopAllOnSignals(): void {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\nbench: ${signal}, stopping what was started`);
      void stopAll().finally(() => process.exit(code));
    });
  }
}
