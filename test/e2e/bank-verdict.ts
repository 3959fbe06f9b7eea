/**
 * The end of a bank run: heal, read every account once more in one transaction (retried until
 * answered), wait (bounded) until every group's leader reports no intent and no transaction record
 * left (the sweep resolves what the run abandoned), and judge what was recorded: the checker's
 * verdict on the transaction history, the snapshots whose sum was wrong, the final total, the
 * transactions left behind, and the 500 answers.
 */
import { anomalyKinds, checkTxnHistory, describeTxnAnomalies, describeTxnSummary, type TxnCheckResult } from "../../src/checker/index.ts";
import { send, sendJson } from "../../scripts/chaos/http.ts";
import { snapshot, type BankContext } from "./bank-workload.ts";

/** Process id of the final reader; it moves on by 1000 after an unanswered read. */
const finalReaderProcess = 999;

/** What a bank run proved or broke. */
export interface BankVerdict {
  readonly check: TxnCheckResult;
  /** The checker's summary line, then one block per anomaly. */
  readonly checkerLines: readonly string[];
  readonly anomalyKinds: readonly string[];
  /** The final balances (null: absent), or undefined when no final read was answered. */
  readonly finalBalances: Record<string, number | null> | undefined;
  readonly finalTotal: number | undefined;
  readonly badSnapshotsCount: number;
  readonly internalErrorsCount: number;
  /** Each group's intents and records as its leader last reported them (undefined: no leader answered); all 0 when nothing was left. */
  readonly leftTransactions: Record<string, { intents: number; records: number } | undefined>;
  /** True when every claim holds: serializable, every snapshot and the final total right, no intent or record left, no 500, and at least one transfer and one snapshot went through. */
  readonly passed: boolean;
}

/** Heals every fault, then reads all accounts once more (up to `deadlineMs` of retries). */
export async function finishBank(context: BankContext, deadlineMs: number): Promise<Record<string, number | null> | undefined> {
  await send(context.baseUrl, "/v1/faults", { method: "DELETE", timeoutMs: context.requestTimeoutMs });
  const deadline = Date.now() + deadlineMs;
  for (let process = finalReaderProcess; Date.now() < deadline; process += 1_000) {
    const balances = await snapshot(context, process);
    if (balances !== undefined) return balances;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/**
 * Asks every group in `groups` (GET /v1/groups/{name}) for the intents and records its leader
 * holds, again until all are 0 or `deadlineMs` passed; answers the last counts of each.
 */
export async function settleTransactions(context: BankContext, groups: readonly string[], deadlineMs: number): Promise<BankVerdict["leftTransactions"]> {
  const left: BankVerdict["leftTransactions"] = {};
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    for (const group of groups) {
      const inspected = await sendJson<{ transactions?: { intents: number; records: number } }>(context.baseUrl, `/v1/groups/${group}`, { timeoutMs: context.requestTimeoutMs });
      const counts = inspected?.transactions;
      left[group] = counts === undefined ? undefined : { intents: counts.intents, records: counts.records };
    }
    if (noneLeft(left) || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function noneLeft(left: BankVerdict["leftTransactions"]): boolean {
  return Object.values(left).every((counts) => counts !== undefined && counts.intents === 0 && counts.records === 0);
}

/** Judges a finished run. */
export function judgeBank(context: BankContext, finalBalances: Record<string, number | null> | undefined, leftTransactions: BankVerdict["leftTransactions"]): BankVerdict {
  const operations = context.history.operations();
  const check = checkTxnHistory(operations);
  const finalTotal = finalBalances === undefined ? undefined : Object.values(finalBalances).reduce<number>((sum, balance) => sum + (balance ?? 0), 0);
  const internalErrorsCount = [...context.answers].filter(([label]) => label.startsWith("500")).reduce((sum, [, count]) => sum + count, 0);
  const madeProgress = context.counts.transfersCommitted > 0 && context.counts.snapshots > 0;
  const passed = check.valid && context.badSnapshots.length === 0 && finalTotal === context.total && noneLeft(leftTransactions) && internalErrorsCount === 0 && madeProgress;
  return {
    check,
    checkerLines: [describeTxnSummary(check), ...describeTxnAnomalies(check, operations)],
    anomalyKinds: anomalyKinds(check),
    finalBalances,
    finalTotal,
    badSnapshotsCount: context.badSnapshots.length,
    internalErrorsCount,
    leftTransactions,
    passed,
  };
}
