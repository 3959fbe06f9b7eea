/**
 * Generator of concurrent transaction histories that are strictly serializable by construction,
 * for tests of the transaction checker: each transaction takes effect on a reference store at one
 * instant between its invoke and its completion (all its checks hold there, or it fails with no
 * effect); an `info` transaction may or may not have taken effect. Versions come from one counter,
 * as in a group's state machine; every written value is unique.
 */
import { assert } from "../shared/assert.ts";
import type { Rng } from "../shared/rng.ts";
import type { TxnCheck, TxnRequest, TxnResponse, TxnWrite } from "./txn-history.ts";
import { TxnHistoryRecorder } from "./txn-recorder.ts";

/** A reference store applying whole transactions atomically, as the system should. */
export class TxnReferenceStore {
  readonly #records = new Map<string, { value: string; version: number }>();
  #versionCounter = 0;

  /** The current value and version of `key`, or undefined when absent. */
  get(key: string): { value: string; version: number } | undefined {
    return this.#records.get(key);
  }

  /** Applies `request` when every check holds: the response, or null (a conflict, no effect). */
  apply(request: TxnRequest): TxnResponse | null {
    for (const check of request.checks) {
      const current = this.#records.get(check.key);
      const holds = "absent" in check ? current === undefined : current?.version === check.version;
      if (!holds) return null;
    }
    const reads = request.reads.map((key) => {
      const current = this.#records.get(key);
      return { key, found: current !== undefined, value: current?.value ?? null, version: current?.version ?? 0 };
    });
    const versions: Record<string, number> = {};
    for (const write of request.writes) {
      const version = ++this.#versionCounter;
      versions[write.key] = version;
      if (write.op === "put") this.#records.set(write.key, { value: write.value, version });
      else this.#records.delete(write.key);
    }
    return { reads, versions };
  }
}

/** Shape of a generated history. */
export interface GenerateTxnHistoryOptions {
  readonly rng: Rng;
  readonly transactionsCount: number;
  /** Keys are named `k0`, `k1`, ... */
  readonly keysCount: number;
  /** Concurrent clients; each has at most one transaction outstanding. */
  readonly processesCount: number;
  /** Chance that a transaction ends `info` (before or after taking effect). */
  readonly infoProbability: number;
  /** Chance that a write is a delete. */
  readonly deleteProbability: number;
}

interface Pending {
  readonly request: TxnRequest;
  /** Set once the transaction took effect (null: its checks failed, so it will fail). */
  effect: { response: TxnResponse | null } | null;
}

/** Generates a strictly serializable history into `recorder` and returns the store it ran against. */
export function generateTxnHistory(options: GenerateTxnHistoryOptions, recorder: TxnHistoryRecorder): TxnReferenceStore {
  const { rng, transactionsCount, processesCount } = options;
  assert(options.keysCount >= 1 && processesCount >= 1, "at least one key and one process");
  const store = new TxnReferenceStore();
  const pending = new Map<number, Pending>();
  let invoked = 0;
  while (invoked < transactionsCount || pending.size > 0) {
    const process = rng.int(processesCount);
    const call = pending.get(process);
    if (call === undefined) {
      if (invoked === transactionsCount) continue;
      const request = newRequest(options, store, invoked++);
      pending.set(process, { request, effect: null });
      recorder.invoke(process, request);
    } else if (call.effect === null) {
      if (rng.chance(options.infoProbability)) {
        pending.delete(process);
        recorder.info(process);
      } else {
        call.effect = { response: store.apply(call.request) };
      }
    } else {
      pending.delete(process);
      const response = call.effect.response;
      if (rng.chance(options.infoProbability)) recorder.info(process);
      else if (response === null) recorder.fail(process);
      else recorder.ok(process, response);
    }
  }
  return store;
}

function newRequest(options: GenerateTxnHistoryOptions, store: TxnReferenceStore, serial: number): TxnRequest {
  const { rng } = options;
  const key = () => `k${rng.int(options.keysCount)}`;
  const reads = Array.from({ length: rng.int(4) }, key);
  const checks: TxnCheck[] = [];
  for (let count = rng.int(3); count > 0; count--) {
    const checked = key();
    const current = store.get(checked);
    // Usually the version seen now, so that most checks hold; sometimes a stale or absent one.
    if (rng.chance(0.8)) checks.push(current === undefined ? { key: checked, absent: true } : { key: checked, version: current.version });
    else checks.push(rng.chance(0.5) ? { key: checked, absent: true } : { key: checked, version: rng.int(serial + 1) });
  }
  const writes: TxnWrite[] = [];
  for (let count = rng.int(4); count > 0; count--) {
    const written = key();
    writes.push(rng.chance(options.deleteProbability) ? { op: "delete", key: written } : { op: "put", key: written, value: `t${serial}-${written}-${count}` });
  }
  return { reads, checks, writes };
}
