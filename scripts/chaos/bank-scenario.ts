/**
 * The chaos campaign's bank scenario: 16 accounts in four prefix groups (bank-a..bank-d) on a
 * fresh wrangler dev with FAULTS=on; transfer clients and two snapshot clients run the bank
 * workload (test/e2e/bank-workload.ts) while two nemeses attack bank-a (with the process kills and
 * restarts) and bank-c; then heal, read every account once more, write the transaction history as
 * JSON Lines (checkable again with `npm run check-history -- FILE`) and judge: strictly
 * serializable, every snapshot and the final read sum to the initial total, every group's leader
 * reports no intent or transaction record left (waited for while the sweep works), no 500.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRng } from "../../src/shared/rng.ts";
import { createBankContext, runSnapshotClient, runTransferClient, seedAccounts, type BankContext, type BankPlan } from "../../test/e2e/bank-workload.ts";
import { finishBank, judgeBank, settleTransactions, type BankVerdict } from "../../test/e2e/bank-verdict.ts";
import { send, sendJson } from "./http.ts";
import { runNemesis, sleep, type NemesisRecord } from "./nemesis.ts";
import { ChaosServer } from "./server.ts";

/** How to run the bank scenario. */
export interface BankScenarioOptions {
  readonly transferClients: number;
  readonly snapshotClients: number;
  readonly workloadMs: number;
  readonly restarts: number;
  readonly seed: number;
  readonly requestTimeoutMs: number;
  readonly outputDirectory: string;
  log(line: string): void;
}

/** What the bank scenario produced. */
export interface BankScenarioResult {
  readonly options: BankScenarioOptions;
  readonly context: BankContext;
  readonly verdict: BankVerdict;
  readonly nemeses: readonly NemesisRecord[];
  readonly historyPath: string;
  readonly wallSeconds: number;
}

/** The scenario's accounts: four groups of four. */
export const bankPlan: BankPlan = {
  groups: ["a", "b", "c", "d"].map((letter) => ({ name: `bank-${letter}`, prefix: `bank-${letter}/` })),
  accountsPerGroup: 4,
  initialBalance: 100,
};

const setupTimeoutMs = 60_000;

/** Runs the scenario; the server is stopped whatever happens. */
export async function runBankScenario(options: BankScenarioOptions): Promise<BankScenarioResult> {
  const started = performance.now();
  const server = new ChaosServer();
  try {
    await server.start();
    options.log(`wrangler dev up at ${server.url} (state in ${server.persistDir})`);
    const replicas = await setUpGroups(server);
    const replicasOf = (group: string) => replicas.get(group)!;
    const stopAt = { ms: Infinity };
    const context = createBankContext(server.url, bankPlan, { requestTimeoutMs: options.requestTimeoutMs, running: () => context.clock() < stopAt.ms });
    if (!(await seedAccounts(context, bankPlan.initialBalance))) throw new Error("the seeding transaction did not commit");
    stopAt.ms = context.clock() + options.workloadMs;
    const nemesisStopMs = Math.max(0, stopAt.ms - 6_000);
    const restartAtMs = Array.from({ length: options.restarts }, (_, index) => context.clock() + ((index + 1) * (nemesisStopMs - context.clock())) / (options.restarts + 1));
    const rng = createRng(options.seed);
    const log = (line: string) => options.log(`  [${(context.clock() / 1000).toFixed(1)} s] ${line}`);
    const nemeses = [
      runNemesis({ server, group: "bank-a", replicas: replicasOf("bank-a"), rng: rng.fork(), clock: context.clock, stopAtMs: nemesisStopMs, restartAtMs, log: (line) => log(`bank-a: ${line}`) }),
      runNemesis({ server, group: "bank-c", replicas: replicasOf("bank-c"), rng: rng.fork(), clock: context.clock, stopAtMs: nemesisStopMs, restartAtMs: [], log: (line) => log(`bank-c: ${line}`) }),
    ];
    const clients = [
      ...Array.from({ length: options.transferClients }, (_, client) => runTransferClient(context, client, rng.fork())),
      ...Array.from({ length: options.snapshotClients }, (_, client) => runSnapshotClient(context, client)),
    ];
    const [recordA, recordC] = await Promise.all([...nemeses, ...clients]);
    options.log(`workload done after ${(context.clock() / 1000).toFixed(1)} s; healing and reading every account`);
    await send(server.url, "/v1/faults", { method: "DELETE", timeoutMs: options.requestTimeoutMs });
    await waitHealthy(server);
    const finals = await finishBank(context, setupTimeoutMs);
    const left = await settleTransactions(context, ["default", ...bankPlan.groups.map((group) => group.name)], setupTimeoutMs);
    await server.stop();
    const historyPath = join(options.outputDirectory, `chaos-bank-seed${options.seed}.jsonl`);
    mkdirSync(options.outputDirectory, { recursive: true });
    writeFileSync(historyPath, context.history.toJsonLines());
    const verdict = judgeBank(context, finals, left);
    return { options, context, verdict, nemeses: [recordA as NemesisRecord, recordC as NemesisRecord], historyPath, wallSeconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const output = server.output();
    if (output !== "") options.log(`wrangler dev output (last 3000 characters):\n${output.slice(-3000)}`);
    throw error;
  } finally {
    await server.stop();
  }
}

/** The report lines of the scenario. */
export function describeBankScenario(result: BankScenarioResult): string[] {
  const { options, context, verdict } = result;
  const counts = context.counts;
  const lines = [`== scenario bank: ${context.accounts.length} accounts in ${bankPlan.groups.length} groups, ${options.transferClients} transfer and ${options.snapshotClients} snapshot clients, ${options.workloadMs / 1000} s of workload, seed ${options.seed}`];
  lines.push(`transfers: ${counts.transfersCommitted} committed, ${counts.transfersConflicted} refused (409 or another 4xx), ${counts.transfersUnknown} with unknown outcome; snapshots: ${counts.snapshots}`);
  lines.push(`answers: ${[...context.answers].sort((left, right) => right[1] - left[1]).map(([answer, count]) => `${answer} x${count}`).join(", ")}`);
  const faults = new Map<string, number>();
  for (const record of result.nemeses) for (const [kind, count] of record.injected) faults.set(kind, (faults.get(kind) ?? 0) + count);
  lines.push(`faults injected (bank-a and bank-c): ${[...faults].map(([kind, count]) => `${kind} x${count}`).join(", ") || "none"}`);
  lines.push(`snapshots that did not sum to ${context.total}: ${verdict.badSnapshotsCount}`);
  for (const bad of context.badSnapshots.slice(0, 5)) lines.push(`  process ${bad.process} at ${bad.time} ms: sum ${bad.sum}`);
  lines.push(`final total: ${verdict.finalTotal ?? "unreadable"} (expected ${context.total})`);
  lines.push(`intents and records left: ${Object.entries(verdict.leftTransactions).map(([group, left]) => `${group} ${left === undefined ? "unknown" : `${left.intents}/${left.records}`}`).join(", ")}`);
  lines.push(`checker: ${verdict.checkerLines[0]}`);
  for (const line of verdict.checkerLines.slice(1, 60)) lines.push(`  ${line}`);
  lines.push(`500 internal errors: ${verdict.internalErrorsCount}`);
  lines.push(`history: ${result.historyPath}`);
  lines.push(`wall time: ${result.wallSeconds.toFixed(1)} s; ${verdict.passed ? "PASS" : "FAIL"}`);
  return lines;
}

/** Creates the four groups and waits until each has a leader; returns each group's replica ids. */
async function setUpGroups(server: ChaosServer): Promise<Map<string, number[]>> {
  const deadline = Date.now() + setupTimeoutMs;
  await sendJson(server.url, "/v1/groups", { timeoutMs: setupTimeoutMs }); // creates the default group
  for (const group of bankPlan.groups) {
    for (;;) {
      const outcome = await send(server.url, "/v1/groups", { method: "POST", body: JSON.stringify(group), timeoutMs: setupTimeoutMs });
      if (outcome.kind === "response" && (outcome.status === 201 || outcome.status === 409)) break;
      if (Date.now() > deadline) throw new Error(`could not create group ${group.name}`);
      await sleep(500);
    }
  }
  await waitHealthy(server);
  const replicas = new Map<string, number[]>();
  for (const group of bankPlan.groups) {
    const inspected = await sendJson<{ replicas: { id: number }[] }>(server.url, `/v1/groups/${group.name}`, { timeoutMs: setupTimeoutMs });
    if (inspected === undefined) throw new Error(`group ${group.name} cannot be inspected`);
    replicas.set(group.name, inspected.replicas.map((replica) => replica.id));
  }
  return replicas;
}

async function waitHealthy(server: ChaosServer): Promise<void> {
  const deadline = Date.now() + setupTimeoutMs;
  for (const group of bankPlan.groups) {
    while (Date.now() < deadline) {
      const inspected = await sendJson<{ health?: { healthy?: boolean } }>(server.url, `/v1/groups/${group.name}`, { timeoutMs: 10_000 });
      if (inspected?.health?.healthy === true) break;
      await sleep(250);
    }
  }
}
