/**
 * The bank workload for the transaction tests (test/e2e/bank.test.ts) and the chaos campaign's
 * bank scenario: accounts spread over prefix groups, seeded by one transaction; transfer clients
 * read two balances (two GETs, or a read-only transaction) and move money with a transaction that
 * checks both versions and writes both; snapshot clients read every account in one read-only
 * transaction. Every call goes into a transaction history (single-key GETs as one-key
 * transactions) and every written value is unique (`<balance> <writer>`), so the checker can tie
 * each read to its write. Answers map to outcomes that never claim more than is known: 200 ok,
 * 409 and other 4xx fail, a refused connection fail, anything else (5xx, reset, timeout) info.
 */
import { TxnHistoryRecorder, type TxnReadResult, type TxnRequest, type TxnResponse } from "../../src/checker/index.ts";
import type { Rng } from "../../src/shared/rng.ts";
import { labelOf, send, type HttpOutcome } from "../../scripts/chaos/http.ts";

/** Where the accounts live: `accountsPerGroup` keys under each group's prefix. */
export interface BankPlan {
  readonly groups: readonly { readonly name: string; readonly prefix: string }[];
  readonly accountsPerGroup: number;
  readonly initialBalance: number;
}

/** Shared state of one bank run. */
export interface BankContext {
  readonly baseUrl: string;
  readonly history: TxnHistoryRecorder;
  /** Milliseconds since the run began; the history's time. */
  readonly clock: () => number;
  readonly accounts: readonly string[];
  /** The sum every snapshot must see. */
  readonly total: number;
  readonly requestTimeoutMs: number;
  readonly running: () => boolean;
  /** How many times each answer was seen (`200`, `409 txnConflict`, `timeout`, ...). */
  readonly answers: Map<string, number>;
  /** Snapshot reads whose balances did not add up to `total`. */
  readonly badSnapshots: { readonly process: number; readonly time: number; readonly sum: number; readonly balances: Record<string, number | null> }[];
  /** Counts of snapshot reads and of transfers by outcome. */
  readonly counts: { snapshots: number; transfersCommitted: number; transfersConflicted: number; transfersUnknown: number };
}

/** The account keys of a plan, in group order. */
export function accountKeys(plan: BankPlan): string[] {
  return plan.groups.flatMap((group) => Array.from({ length: plan.accountsPerGroup }, (_, index) => `${group.prefix}${index}`));
}

/** Creates a context for a run against `baseUrl`. */
export function createBankContext(baseUrl: string, plan: BankPlan, options: { requestTimeoutMs: number; running: () => boolean }): BankContext {
  const epoch = performance.now();
  const accounts = accountKeys(plan);
  return {
    baseUrl,
    history: new TxnHistoryRecorder(),
    clock: () => Math.round(performance.now() - epoch),
    accounts,
    total: accounts.length * plan.initialBalance,
    requestTimeoutMs: options.requestTimeoutMs,
    running: options.running,
    answers: new Map(),
    badSnapshots: [],
    counts: { snapshots: 0, transfersCommitted: 0, transfersConflicted: 0, transfersUnknown: 0 },
  };
}

/** The balance a written value carries (`"<balance> <writer>"`). */
export function balanceOf(value: string): number {
  const balance = Number(value.split(" ")[0]);
  if (!Number.isSafeInteger(balance)) throw new Error(`not a bank value: ${JSON.stringify(value)}`);
  return balance;
}

/** How a recorded call ended. */
export type CallResult = { outcome: "ok"; response: TxnResponse } | { outcome: "fail"; status: number; code: string | undefined } | { outcome: "info" };

/** Sends one transaction through `POST /v1/txn`, recording it; never throws. */
export async function transact(context: BankContext, process: number, request: TxnRequest): Promise<CallResult> {
  context.history.invoke(process, request, context.clock());
  const outcome = await send(context.baseUrl, "/v1/txn", { method: "POST", body: JSON.stringify(request), timeoutMs: context.requestTimeoutMs });
  tally(context, outcome);
  const response = outcome.kind === "response" && outcome.status === 200 ? responseOf(outcome.body) : undefined;
  if (response !== undefined) {
    context.history.ok(process, response, context.clock());
    return { outcome: "ok", response };
  }
  if (outcome.kind === "refused" || (outcome.kind === "response" && outcome.status >= 400 && outcome.status < 500)) {
    context.history.fail(process, context.clock());
    if (outcome.kind === "response") return { outcome: "fail", status: outcome.status, code: outcome.code };
    await whileDown();
    return { outcome: "fail", status: 0, code: "refused" };
  }
  context.history.info(process, context.clock());
  return { outcome: "info" };
}

/** Reads one account with `GET /v1/kv/{key}`, recorded as a one-key transaction; undefined unless answered. */
export async function readAccount(context: BankContext, process: number, key: string): Promise<TxnReadResult | undefined> {
  context.history.invoke(process, { reads: [key], checks: [], writes: [] }, context.clock());
  const outcome = await send(context.baseUrl, `/v1/kv/${key}`, { timeoutMs: context.requestTimeoutMs });
  tally(context, outcome);
  const version = outcome.kind === "response" ? Number((outcome.etag ?? "").replaceAll('"', "")) : NaN;
  if (outcome.kind === "response" && outcome.status === 200 && Number.isSafeInteger(version)) {
    const read: TxnReadResult = { key, found: true, value: outcome.body, version };
    context.history.ok(process, { reads: [read], versions: {} }, context.clock());
    return read;
  }
  if (outcome.kind === "response" && outcome.status === 404 && outcome.code === "notFound") {
    const read: TxnReadResult = { key, found: false, value: null, version: 0 };
    context.history.ok(process, { reads: [read], versions: {} }, context.clock());
    return read;
  }
  if (outcome.kind === "refused") {
    context.history.fail(process, context.clock());
    await whileDown();
  } else {
    context.history.info(process, context.clock());
  }
  return undefined;
}

/** Writes the initial balance to every account in one transaction (each must be absent); true when it committed. */
export async function seedAccounts(context: BankContext, initialBalance: number): Promise<boolean> {
  const request: TxnRequest = {
    reads: [],
    checks: context.accounts.map((key) => ({ key, absent: true as const })),
    writes: context.accounts.map((key) => ({ op: "put" as const, key, value: `${initialBalance} seed` })),
  };
  return (await transact(context, 0, request)).outcome === "ok";
}

/**
 * One transfer client until `running()` is false: read two balances (even rounds two GETs, odd
 * rounds one read-only transaction), then move 1..10 from the richer one with checks on both
 * versions. After an `info` it continues under a new process id, as in Jepsen.
 */
export async function runTransferClient(context: BankContext, client: number, rng: Rng): Promise<void> {
  let process = 100 + client;
  for (let round = 0; context.running(); round++) {
    const first = context.accounts[rng.int(context.accounts.length)]!;
    let second = context.accounts[rng.int(context.accounts.length - 1)]!;
    if (second === first) second = context.accounts[context.accounts.length - 1]!;
    const reads = round % 2 === 0 ? await readTwo(context, process, first, second) : await readTogether(context, process, [first, second]);
    if (reads === undefined || !reads.every((read) => read.found)) {
      process += 1_000;
      continue;
    }
    const [from, to] = balanceOf(reads[0]!.value!) >= balanceOf(reads[1]!.value!) ? [reads[0]!, reads[1]!] : [reads[1]!, reads[0]!];
    const amount = Math.min(balanceOf(from.value!), 1 + rng.int(10));
    const tag = `p${process}-${round}`;
    const result = await transact(context, process, {
      reads: [],
      checks: [{ key: from.key, version: from.version }, { key: to.key, version: to.version }],
      writes: [
        { op: "put", key: from.key, value: `${balanceOf(from.value!) - amount} ${tag}` },
        { op: "put", key: to.key, value: `${balanceOf(to.value!) + amount} ${tag}` },
      ],
    });
    if (result.outcome === "ok") context.counts.transfersCommitted++;
    else if (result.outcome === "fail") context.counts.transfersConflicted++;
    else {
      context.counts.transfersUnknown++;
      process += 1_000;
    }
  }
}

/** One snapshot client until `running()` is false: read every account in one transaction and add them up. */
export async function runSnapshotClient(context: BankContext, client: number): Promise<void> {
  let process = 500 + client;
  while (context.running()) {
    const balances = await snapshot(context, process);
    if (balances === undefined) process += 1_000;
  }
}

/** Reads every account in one read-only transaction; the balances (null: absent), or undefined when not answered. */
export async function snapshot(context: BankContext, process: number): Promise<Record<string, number | null> | undefined> {
  const reads = await readTogether(context, process, context.accounts);
  if (reads === undefined) return undefined;
  const balances: Record<string, number | null> = {};
  for (const read of reads) balances[read.key] = read.found ? balanceOf(read.value!) : null;
  const sum = Object.values(balances).reduce<number>((total, balance) => total + (balance ?? 0), 0);
  context.counts.snapshots++;
  if (sum !== context.total || reads.length !== context.accounts.length) context.badSnapshots.push({ process, time: context.clock(), sum, balances });
  return balances;
}

async function readTwo(context: BankContext, process: number, first: string, second: string): Promise<TxnReadResult[] | undefined> {
  const one = await readAccount(context, process, first);
  if (one === undefined) return undefined;
  const two = await readAccount(context, process, second);
  return two === undefined ? undefined : [one, two];
}

async function readTogether(context: BankContext, process: number, keys: readonly string[]): Promise<TxnReadResult[] | undefined> {
  const result = await transact(context, process, { reads: [...keys], checks: [], writes: [] });
  if (result.outcome !== "ok") return undefined;
  return keys.map((key) => result.response.reads.find((read) => read.key === key) ?? { key, found: false, value: null, version: 0 });
}

/** Parses a 200 answer of `POST /v1/txn` into the history's response shape; undefined when it is not one. */
function responseOf(body: string): TxnResponse | undefined {
  let parsed: { committed?: unknown; reads?: unknown; versions?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return undefined;
  }
  if (parsed.committed !== true || !Array.isArray(parsed.reads)) return undefined;
  const reads = (parsed.reads as { key: string; found: boolean; value?: string | null; version?: number | null }[]).map((read) => ({
    key: read.key,
    found: read.found,
    value: read.found ? (read.value ?? null) : null,
    version: read.version ?? 0,
  }));
  const versions = typeof parsed.versions === "object" && parsed.versions !== null ? (parsed.versions as Record<string, number>) : {};
  return { reads, versions };
}

/** A refused connection means the server is down (a process restart): wait a little instead of spinning. */
function whileDown(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 250));
}

function tally(context: BankContext, outcome: HttpOutcome): void {
  const label = labelOf(outcome);
  context.answers.set(label, (context.answers.get(label) ?? 0) + 1);
}
