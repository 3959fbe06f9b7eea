/**
 * How a caller waits for work another caller of the same isolate runs (a metadata load, the
 * metadata group's bootstrap): woken when that work settles, and by a timer of its own meanwhile.
 * On Workers a request that waits only on I/O another request started looks hung and is cancelled
 * (HTTP 500), so the timer must be there; polling on the timer alone made a burst slow (a
 * /v1/batch of 250 writes on a cold cache came back one write every 30 ms).
 */

/** A promise that resolves when the work it stands for settles (never rejects), and the function that resolves it. */
export function settleSignal(): { settled: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const settled = new Promise<void>((resolve) => (wake = resolve));
  return { settled, wake };
}

/** Resolves when `settled` does, or after `pollMs`, whichever comes first; the caller then looks again. */
export function wakeOrPoll(settled: Promise<void>, pollMs: number): Promise<unknown> {
  return Promise.race([settled, new Promise((resolve) => setTimeout(resolve, pollMs))]);
}
