/**
 * The chaos campaign's reshaper: while the clients write and the nemesis injects faults, it loops
 * over the keyspace operations of issue 8 on one group: split it at a key into a second group,
 * move a range below the cut over to that second group, and merge the second group back. Each
 * step is sent until it is known done: a 2xx, or the answer that says an earlier attempt (whose
 * answer a fault swallowed) did it already (the split's new name taken, the merged group gone).
 */
import { labelOf, send } from "./http.ts";
import { sleep } from "./nemesis.ts";
import type { ChaosServer } from "./server.ts";

/** The operations the reshaper drives. */
export interface ReshapePlan {
  /** The group that is split and that absorbs the other half again. */
  group: string;
  /** The name of the half the split makes, before its cycle number (`<splitName>-1`, `-2`, ...). */
  splitName: string;
  /** The split key, and the start of the range moved over afterwards (`[moveStart, splitAt)`). */
  splitAt: string;
  moveStart: string;
}

/** What the reshaper did. */
export interface ReshapeRecord {
  /** Completed cycles (split, move, merge). */
  cycles: number;
  /** Steps known done, by operation. */
  done: Map<"split" | "move" | "merge", number>;
  /** Every answer a reshaping call got, by operation and label. */
  answers: Map<string, number>;
  /** A step that could not be done before the deadline, or answered something no retry explains. */
  problems: string[];
}

/** What the reshaper needs. */
export interface ReshaperOptions {
  server: ChaosServer;
  plan: ReshapePlan;
  clock(): number;
  /** No new step starts after this (scenario clock); a started cycle is finished (merge) until `finishByMs`. */
  stopAtMs: number;
  finishByMs: number;
  log(line: string): void;
}

/** One attempt's timeout: a move copies records page by page and may wait out a fault. */
const stepTimeoutMs = 30_000;

/** Runs split, move, merge cycles until `stopAtMs`; always ends with the halves merged when it can. */
export async function runReshaper(options: ReshaperOptions): Promise<ReshapeRecord> {
  const record: ReshapeRecord = { cycles: 0, done: new Map(), answers: new Map(), problems: [] };
  const { plan } = options;
  const encodedGroup = encodeURIComponent(plan.group);
  await sleep(1_000);
  while (options.clock() < options.stopAtMs) {
    // A fresh name each cycle: a group re-created under the name of a removed one lands on that
    // one's retired Durable Objects and never serves (see docs/chaos.md, "Found").
    const splitName = `${plan.splitName}-${record.cycles + 1}`;
    const split = await step(options, record, "split", `/v1/groups/${encodedGroup}/split`, { at: plan.splitAt, name: splitName }, options.stopAtMs, (status, code) => status === 409 && code === "groupExists");
    if (!split) break;
    await step(options, record, "move", "/v1/ranges/move", { start: plan.moveStart, end: plan.splitAt, to: splitName }, options.finishByMs, () => false);
    // The merge is always attempted (up to the final deadline), so the scenario ends on one group.
    const merged = await step(options, record, "merge", `/v1/groups/${encodedGroup}/merge`, { with: splitName }, options.finishByMs, (status, code) => status === 404 && code === "groupNotFound");
    if (!merged) break;
    record.cycles += 1;
  }
  return record;
}

/**
 * Sends one step until it is done (true) or `deadlineMs` passes (false). `alreadyDone` says
 * whether a 4xx answer means an earlier attempt already did it.
 */
async function step(
  options: ReshaperOptions,
  record: ReshapeRecord,
  operation: "split" | "move" | "merge",
  path: string,
  body: object,
  deadlineMs: number,
  alreadyDone: (status: number, code: string | undefined) => boolean,
): Promise<boolean> {
  for (let attempt = 0; options.clock() < deadlineMs; attempt++) {
    await options.server.ready();
    const began = options.clock();
    const outcome = await send(options.server.url, path, { method: "POST", body: JSON.stringify(body), timeoutMs: stepTimeoutMs });
    const label = `${operation} ${labelOf(outcome)}`;
    record.answers.set(label, (record.answers.get(label) ?? 0) + 1);
    const done = outcome.kind === "response" && ((outcome.status >= 200 && outcome.status < 300) || (attempt > 0 && alreadyDone(outcome.status, outcome.code)));
    if (done) {
      record.done.set(operation, (record.done.get(operation) ?? 0) + 1);
      options.log(`${operation} done in ${options.clock() - began} ms (${labelOf(outcome)}${attempt > 0 ? `, attempt ${attempt + 1}` : ""})`);
      return true;
    }
    if (outcome.kind === "response" && outcome.status >= 400 && outcome.status < 500 && outcome.status !== 408 && outcome.status !== 429) {
      // A definite refusal that no earlier attempt explains: the reshaper's own plan is wrong, or the server is.
      record.problems.push(`${operation} ${JSON.stringify(body)} answered ${outcome.status} ${outcome.body.slice(0, 300)}`);
      options.log(`${operation} refused: ${outcome.status} ${outcome.body.slice(0, 300)}`);
      return false;
    }
    options.log(`${operation} attempt ${attempt + 1} at ${(began / 1000).toFixed(1)} s: ${labelOf(outcome)}${outcome.kind === "response" ? ` ${outcome.body.slice(0, 200)}` : ""}`);
    await sleep(500);
  }
  record.problems.push(`${operation} ${JSON.stringify(body)} not done by ${(deadlineMs / 1000).toFixed(1)} s`);
  return false;
}
