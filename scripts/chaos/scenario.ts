/**
 * One chaos scenario from start to end: a fresh wrangler dev with FAULTS=on, its groups created
 * through the API, clients and the nemesis running side by side for a fixed time, then a heal,
 * final reads of every key, the history written to a JSON Lines file, and the verdict.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HistoryRecorder } from "../../src/checker/index.ts";
import { createRng } from "../../src/shared/rng.ts";
import { send, sendJson } from "./http.ts";
import { runNemesis, sleep, type NemesisRecord } from "./nemesis.ts";
import { runReshaper, type ReshapePlan, type ReshapeRecord } from "./reshaper.ts";
import { ChaosServer } from "./server.ts";
import { judge, type FinalValues, type Verdict } from "./verdict.ts";
import { keyPath, runClient, type CompletedOperation, type KeySet, type WorkloadContext } from "./workload.ts";

/** A group of a scenario: created with `prefix` unless it is the default group. */
export interface GroupPlan extends KeySet {
  prefix: string | undefined;
}

/** How to run one scenario. */
export interface ScenarioOptions {
  name: string;
  groups: GroupPlan[];
  /** The group the nemesis attacks (the process restarts hit every group). */
  target: string;
  clients: number;
  workloadMs: number;
  restarts: number;
  seed: number;
  requestTimeoutMs: number;
  outputDirectory: string;
  /** When present, a reshaper splits, moves and merges this plan's group during the faults. */
  reshape?: ReshapePlan;
  log(line: string): void;
}

/** Everything a scenario produced. */
export interface ScenarioResult {
  options: ScenarioOptions;
  historyPath: string;
  completed: CompletedOperation[];
  answers: Map<string, number>;
  nemesis: NemesisRecord;
  verdict: Verdict;
  restartSeconds: number[];
  wallSeconds: number;
  /** What the reshaper did, when the scenario has one. */
  reshape?: ReshapeRecord;
}

/** Process id of the final reader; like the clients', it moves on by 1000 after an `info`. */
const finalReaderProcess = 999;
const setupTimeoutMs = 60_000;

/** Runs the scenario; the server is stopped whatever happens. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const server = new ChaosServer();
  try {
    await server.start();
    options.log(`wrangler dev up at ${server.url} (state in ${server.persistDir})`);
    const replicas = await setUpGroups(server, options);
    const history = new HistoryRecorder();
    const epoch = performance.now();
    const clock = (): number => Math.round(performance.now() - epoch);
    const context: WorkloadContext = { server, history, clock, answers: new Map(), completed: [], requestTimeoutMs: options.requestTimeoutMs };
    const rng = createRng(options.seed);
    const stopAtMs = options.workloadMs;
    // The nemesis stops early so that the workload ends on a healed cluster (a liveness check).
    const nemesisStopMs = Math.max(0, stopAtMs - 6_000);
    const restartAtMs = Array.from({ length: options.restarts }, (_, index) => ((index + 1) * nemesisStopMs) / (options.restarts + 1));
    const clients = Array.from({ length: options.clients }, (_, client) => runClient(context, options.groups, client, rng.fork(), stopAtMs));
    const nemesis = runNemesis({ server, group: options.target, replicas, rng: rng.fork(), clock, stopAtMs: nemesisStopMs, restartAtMs, log: (line) => options.log(`  [${(clock() / 1000).toFixed(1)} s] ${line}`) });
    const reshapePlan = options.reshape;
    const reshaper = reshapePlan === undefined
      ? Promise.resolve(undefined)
      : runReshaper({ server, plan: reshapePlan, clock, stopAtMs: nemesisStopMs, finishByMs: stopAtMs + setupTimeoutMs, log: (line) => options.log(`  [${(clock() / 1000).toFixed(1)} s] reshape: ${line}`) });
    const [record, reshapeRecord] = await Promise.all([nemesis, reshaper, ...clients]);
    options.log(`workload done after ${(clock() / 1000).toFixed(1)} s; healing and reading every key`);
    await send(server.url, "/v1/faults", { method: "DELETE", timeoutMs: options.requestTimeoutMs });
    await waitHealthy(server, options.groups.map((group) => group.group));
    const finals = await finalReads(context, options.groups);
    const historyPath = writeHistory(options, history);
    const restartSeconds = [...server.restartSeconds];
    await server.stop();
    const verdict = judge(history.operations(), finals);
    const result: ScenarioResult = { options, historyPath, completed: context.completed, answers: context.answers, nemesis: record, verdict, restartSeconds, wallSeconds: (performance.now() - started) / 1000 };
    return reshapeRecord === undefined ? result : { ...result, reshape: reshapeRecord };
  } catch (error) {
    const output = server.output();
    if (output !== "") options.log(`wrangler dev output (last 3000 characters):\n${output.slice(-3000)}`);
    throw error;
  } finally {
    await server.stop();
  }
}

/** Creates the scenario's groups, waits until each has a leader; returns the target's replica ids. */
async function setUpGroups(server: ChaosServer, options: ScenarioOptions): Promise<number[]> {
  const deadline = Date.now() + setupTimeoutMs;
  await sendJson(server.url, "/v1/groups", { timeoutMs: setupTimeoutMs }); // creates the default group
  for (const group of options.groups) {
    if (group.prefix === undefined) continue;
    for (;;) {
      const body = JSON.stringify({ name: group.group, prefix: group.prefix });
      const outcome = await send(server.url, "/v1/groups", { method: "POST", body, timeoutMs: setupTimeoutMs });
      if (outcome.kind === "response" && (outcome.status === 201 || outcome.status === 409)) break;
      if (Date.now() > deadline) throw new Error(`could not create group ${group.group}`);
      await sleep(500);
    }
  }
  await waitHealthy(server, options.groups.map((group) => group.group));
  const target = await sendJson<{ replicas: { id: number }[] }>(server.url, `/v1/groups/${options.target}`, { timeoutMs: setupTimeoutMs });
  if (target === undefined) throw new Error(`group ${options.target} cannot be inspected`);
  options.log(`groups ready: ${options.groups.map((group) => `${group.group} (${group.keys.length} keys)`).join(", ")}; faults target ${options.target}`);
  return target.replicas.map((replica) => replica.id);
}

/** Waits until every group in `names` reports a leader known to a majority (at most a minute). */
async function waitHealthy(server: ChaosServer, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + setupTimeoutMs;
  for (const name of names) {
    while (Date.now() < deadline) {
      const inspected = await sendJson<{ health?: { healthy?: boolean } }>(server.url, `/v1/groups/${name}`, { timeoutMs: 10_000 });
      if (inspected?.health?.healthy === true) break;
      await sleep(250);
    }
  }
}

/** Reads every key once more (retrying until an answer, for up to a minute), recording the reads. */
async function finalReads(context: WorkloadContext, groups: readonly KeySet[]): Promise<FinalValues> {
  const finals: FinalValues = new Map();
  let process = finalReaderProcess;
  const deadline = Date.now() + setupTimeoutMs;
  for (const key of groups.flatMap((group) => group.keys)) {
    finals.set(key, undefined);
    while (Date.now() < deadline) {
      context.history.invoke(process, "read", key, null, context.clock());
      const outcome = await send(context.server.url, keyPath(key), { timeoutMs: context.requestTimeoutMs });
      if (outcome.kind === "response" && (outcome.status === 200 || (outcome.status === 404 && outcome.code === "notFound"))) {
        const value = outcome.status === 200 ? outcome.body : null;
        context.history.complete(process, "ok", value, context.clock());
        finals.set(key, value);
        break;
      }
      context.history.complete(process, "info", null, context.clock());
      process += 1_000;
      await sleep(250);
    }
  }
  return finals;
}

function writeHistory(options: ScenarioOptions, history: HistoryRecorder): string {
  mkdirSync(options.outputDirectory, { recursive: true });
  const path = join(options.outputDirectory, `chaos-${options.name}-seed${options.seed}.jsonl`);
  writeFileSync(path, history.toJsonLines());
  return path;
}
