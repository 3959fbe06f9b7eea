/**
 * Transactions across groups, driven by the router (two-phase commit over the groups' logs; the
 * rules that make it safe are in src/kv/txn-apply.ts):
 *
 * - keys in one group: one `onePhase` entry there (checks, reads and writes, no intents);
 * - else: `begin` the record (pending) in the group of the first written key, `prepare` every
 *   participant in parallel (checks, intents, reserved versions, locked reads), `decide` commit in
 *   the record, then `resolve` the intents and `forget` the record. Any failure before the commit
 *   decision aborts through the record; a router that dies anywhere leaves intents that whoever
 *   meets them (or the sweep) resolves from the record, which a push aborts once its deadline passed;
 * - reads only: every key read twice (each read waiting out or pushing intents it meets); equal
 *   versions in both rounds mean one instant at which all of them held, so no half transaction.
 */
import type { Operation, BatchStep } from "../../kv/command.ts";
import type { ApplyResult, IntentFound, TxnApplied } from "../../kv/result.ts";
import type { TxnOperation } from "../../kv/txn-command.ts";
import { decodeBase64 } from "../../shared/base64.ts";
import type { ClusterError, ClusterResult, Keyspace, TxnOutcome, TxnRequest } from "../cluster.ts";
import type { GroupResult } from "./group-io.ts";
import type { GroupRecord } from "./metadata.ts";

/** How long a transaction's record stays pending before a push may abort it, in milliseconds. */
export const txnDeadlineMs = 2_000;
/** How long a one-phase transaction waits for other transactions' intents on its keys, in milliseconds. */
const intentWaitMs = 3_000;
/** Margin kept before the deadline: a prepare that is still waiting then gives up and aborts. */
const deadlineMarginMs = 300;

/** An intent as a replica reports it. */
export type IntentInfo = IntentFound["intents"][number];

/** A transaction record as the sweep sees it. */
export interface SweptRecord {
  readonly txn: string;
  readonly recordKey: string;
  readonly keys: readonly string[];
}

/** What the driver needs from the cluster client. */
export interface TxnPorts {
  resolve(keyspace: Keyspace, key: string): Promise<ClusterResult<GroupRecord>>;
  /** The active group named `name` (a wrongRange refusal's moved-to hint). */
  activeGroup(name: string): Promise<ClusterResult<GroupRecord>>;
  invalidate(): void;
  /** Proposes `operation` in `group` (no routing, no intent handling). */
  write(group: GroupRecord, operation: Operation): Promise<GroupResult<ApplyResult>>;
  /** Proposes `operation` in the group that serves `key`, following moves. */
  routedWrite(keyspace: Keyspace, key: string, operation: Operation): Promise<ClusterResult<{ record: GroupRecord; value: ApplyResult }>>;
  /** A linearizable read that waits out or pushes intents. */
  read(keyspace: Keyspace, key: string): Promise<ClusterResult<{ found: boolean; value?: Uint8Array; version: number }>>;
  sleep(ms: number): Promise<void>;
}

/** Runs transactions and settles intents met by other requests. */
export class TxnDriver {
  private readonly ports: TxnPorts;
  /** Fault injection (dev and tests only): the next two-phase transaction stops after this phase, leaving its record and intents to readers and the sweep. */
  haltAfter: "prepare" | "decide" | undefined;

  constructor(ports: TxnPorts) {
    this.ports = ports;
  }

  /** Runs `request` atomically; a conflict answers txnConflict with the keys at fault. */
  async run(keyspace: Keyspace, request: TxnRequest): Promise<ClusterResult<TxnOutcome>> {
    if (request.writes.length === 0 && request.checks.length === 0) return this.snapshotRead(keyspace, request.reads);
    const waitUntil = Date.now() + intentWaitMs;
    const hints = new Map<string, string>();
    for (let attempt = 0; ; attempt++) {
      const groups = await this.groupKeys(keyspace, keysOf(request), hints);
      if (!groups.ok) return groups;
      if (groups.value.size > 1) return this.twoPhase(keyspace, request);
      const { record, keys } = [...groups.value.values()][0]!;
      const written = await this.ports.write(record, { type: "txn", action: "onePhase", ...workOf(request, () => true) });
      noteHint(hints, keys, written);
      const settled = await this.outcomeOf(keyspace, record, written, request);
      if (settled !== "retry") return settled;
      if (Date.now() > waitUntil) return conflict(keysOf(request), "other transactions held the keys past the wait");
      await this.ports.sleep(backoffMs(attempt));
    }
  }

  /**
   * Resolves the intents a request met in `group` whose transactions are decided (pushing each
   * record first: a pending one past its deadline is aborted). Answers whether any was resolved.
   */
  async settle(keyspace: Keyspace, group: GroupRecord, intents: readonly IntentInfo[]): Promise<boolean> {
    const byTxn = new Map(intents.map((intent) => [intent.txn, intent]));
    const settled = await Promise.all(
      [...byTxn.values()].map(async (intent) => {
        const decided = await this.ports.routedWrite(keyspace, intent.recordKey, { type: "txn", action: "decide", txn: intent.txn, recordKey: intent.recordKey, decision: "push" });
        if (!decided.ok || !decided.value.value.ok || decided.value.value.type !== "txnStatus" || decided.value.value.status === "pending") return false;
        // With its keys: a group that moved them away since refuses (wrongRange) instead of answering a no-op that looks like success.
        const keys = [...new Set(intents.filter((met) => met.txn === intent.txn).map((met) => met.key))];
        const resolved = await this.ports.write(group, { type: "txn", action: "resolve", txn: intent.txn, commit: decided.value.value.status === "committed", keys });
        return resolved.ok && resolved.value.ok;
      }),
    );
    return settled.some(Boolean);
  }

  /**
   * The background sweep's work for one group: every intent in `group` past its deadline is settled
   * from its record (pushed first), and every record kept there past its deadline is decided (a
   * pending one aborted by the push), resolved in the groups of its keys, and forgotten.
   */
  async sweep(keyspace: Keyspace, group: GroupRecord, intents: readonly IntentInfo[], records: readonly SweptRecord[]): Promise<void> {
    if (intents.length > 0) await this.settle(keyspace, group, intents);
    for (const record of records) {
      const decided = await this.ports.routedWrite(keyspace, record.recordKey, { type: "txn", action: "decide", txn: record.txn, recordKey: record.recordKey, decision: "push" });
      if (!decided.ok || !decided.value.value.ok || decided.value.value.type !== "txnStatus" || decided.value.value.status === "pending") continue;
      const commit = decided.value.value.status === "committed";
      // Routed by key, with the key in the command: a group that does not serve it refuses, so a stale table cannot make a resolve look done.
      const resolved = await Promise.all(record.keys.map((key) => this.ports.routedWrite(keyspace, key, { type: "txn", action: "resolve", txn: record.txn, commit, keys: [key] })));
      if (resolved.every((result) => result.ok && result.value.value.ok)) await this.ports.routedWrite(keyspace, record.recordKey, { type: "txn", action: "forget", txn: record.txn, recordKey: record.recordKey });
    }
  }

  /** What a one-phase answer means: the outcome, a final error, or "retry" (routing moved, or intents were met). */
  private async outcomeOf(keyspace: Keyspace, group: GroupRecord, written: GroupResult<ApplyResult>, request: TxnRequest): Promise<ClusterResult<TxnOutcome> | "retry"> {
    if (!written.ok) {
      if ("error" in written) return { ok: false, error: written.error };
      if ("stale" in written) this.ports.invalidate();
      return "retry";
    }
    const result = written.value;
    if (result.ok && result.type === "txn") return { ok: true, value: outcomeView(result) };
    if (!result.ok && result.code === "intentFound") {
      await this.settle(keyspace, group, result.intents);
      return "retry";
    }
    return { ok: false, error: failureOf(result, request) };
  }

  private async twoPhase(keyspace: Keyspace, request: TxnRequest): Promise<ClusterResult<TxnOutcome>> {
    const txn = crypto.randomUUID();
    const recordKey = request.writes[0]?.key ?? request.checks[0]!.key;
    const deadlineMs = Date.now() + txnDeadlineMs;
    const begun = await this.ports.routedWrite(keyspace, recordKey, { type: "txn", action: "begin", txn, recordKey, deadlineMs, keys: keysOf(request) });
    if (!begun.ok) return begun.error.code === "outcomeUnknown" ? { ok: false, error: { code: "unavailable", detail: "the transaction could not start; nothing was written" } } : begun;
    const touched = new Map<string, Touched>();
    const prepared = await this.prepareAll(keyspace, { txn, recordKey, deadlineMs }, request, touched);
    if (!prepared.ok) {
      await this.finish(keyspace, txn, recordKey, false, touched);
      return prepared;
    }
    if (this.halted("prepare")) return { ok: false, error: { code: "unavailable", detail: "the transaction stopped after its prepare (fault injection); its record decides it" } };
    const decided = await this.ports.routedWrite(keyspace, recordKey, { type: "txn", action: "decide", txn, recordKey, decision: "commit" });
    if (!decided.ok) return { ok: false, error: { code: "outcomeUnknown", detail: `the commit decision of the transaction was not confirmed (${decided.error.code})` } };
    const committed = decided.value.value.ok && decided.value.value.type === "txnStatus" && decided.value.value.status === "committed";
    if (!this.halted("decide")) await this.finish(keyspace, txn, recordKey, committed, touched);
    if (!committed) return conflict(request.writes.map((write) => write.key), "the transaction was aborted by another request after its deadline passed");
    return { ok: true, value: prepared.value };
  }

  /** Whether a halt was injected after `phase` (it then applies once). */
  private halted(phase: "prepare" | "decide"): boolean {
    if (this.haltAfter !== phase) return false;
    this.haltAfter = undefined;
    return true;
  }

  /** Prepares every participant; keys whose group moved or that met intents are tried again until the deadline's margin. */
  private async prepareAll(keyspace: Keyspace, head: { txn: string; recordKey: string; deadlineMs: number }, request: TxnRequest, touched: Map<string, Touched>): Promise<ClusterResult<TxnOutcome>> {
    let pending = keysOf(request);
    const hints = new Map<string, string>();
    const outcome: { reads: TxnOutcome["reads"][number][]; versions: TxnOutcome["versions"][number][] } = { reads: [], versions: [] };
    let lastError: ClusterError | undefined;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        if (Date.now() > head.deadlineMs - deadlineMarginMs) return { ok: false, error: lastError ?? conflict(pending, "other transactions held the keys past the wait").error };
        await this.ports.sleep(backoffMs(attempt));
      }
      const groups = await this.groupKeys(keyspace, pending, hints);
      if (!groups.ok) return groups;
      const rounds = await Promise.all(
        [...groups.value.values()].map(async ({ record, keys }) => {
          const entry = touched.get(record.name) ?? { record, keys: new Set<string>() };
          for (const key of keys) entry.keys.add(key);
          touched.set(record.name, entry);
          const mine = new Set(keys);
          const operation: TxnOperation = { type: "txn", action: "prepare", ...head, ...workOf(request, (key) => mine.has(key)) };
          return { record, keys, written: await this.ports.write(record, operation) };
        }),
      );
      const left: string[] = [];
      for (const { record, keys, written } of rounds) {
        noteHint(hints, keys, written);
        const step = await this.preparedStep(keyspace, record, written, request);
        if (step === "retry") left.push(...keys);
        else if ("error" in step) {
          if (step.error.code !== "unavailable" && step.error.code !== "outcomeUnknown") return step;
          lastError = step.error; // a prepare whose outcome is unknown is repeated: repeats of one transaction's prepare are idempotent
          left.push(...keys);
        } else {
          outcome.reads.push(...step.reads);
          outcome.versions.push(...step.versions);
        }
      }
      pending = left;
    }
    const order = new Map(request.reads.map((key, index) => [key, index]));
    outcome.reads.sort((left, right) => order.get(left.key)! - order.get(right.key)!);
    return { ok: true, value: outcome };
  }

  private async preparedStep(keyspace: Keyspace, record: GroupRecord, written: GroupResult<ApplyResult>, request: TxnRequest): Promise<TxnOutcome | "retry" | { ok: false; error: ClusterError }> {
    const settled = await this.outcomeOf(keyspace, record, written, request);
    if (settled === "retry") return "retry";
    return settled.ok ? settled.value : settled;
  }

  /**
   * Decides (abort only; commit was decided by the caller), resolves every touched group, then
   * forgets the record. Each resolve names its keys, so a group that moved some of them away refuses
   * (wrongRange) rather than answering a no-op; those keys are then resolved one by one in the groups
   * that serve them now (following moved-to hints, waiting out frozen ranges). Failures are left to
   * pushers and the sweep: the record is forgotten only once every key is known resolved.
   */
  private async finish(keyspace: Keyspace, txn: string, recordKey: string, commit: boolean, touched: Map<string, Touched>): Promise<void> {
    if (!commit) {
      const aborted = await this.ports.routedWrite(keyspace, recordKey, { type: "txn", action: "decide", txn, recordKey, decision: "abort" });
      if (!aborted.ok || !aborted.value.value.ok || aborted.value.value.type !== "txnStatus" || aborted.value.value.status !== "aborted") return;
    }
    const resolved = await Promise.all(
      [...touched.values()].map(async ({ record, keys }) => {
        const written = await this.ports.write(record, { type: "txn", action: "resolve", txn, commit, keys: [...keys] });
        if (written.ok && written.value.ok) return true;
        if (!written.ok && "error" in written) return false;
        const each = await Promise.all([...keys].map((key) => this.ports.routedWrite(keyspace, key, { type: "txn", action: "resolve", txn, commit, keys: [key] })));
        return each.every((result) => result.ok && result.value.value.ok);
      }),
    );
    if (resolved.every(Boolean)) await this.ports.routedWrite(keyspace, recordKey, { type: "txn", action: "forget", txn, recordKey });
  }

  /** Reads every key; again until two rounds agree on every version. */
  private async snapshotRead(keyspace: Keyspace, keys: readonly string[]): Promise<ClusterResult<TxnOutcome>> {
    let previous: TxnOutcome["reads"] | undefined;
    for (let round = 0; round < 8; round++) {
      const reads = await Promise.all(keys.map((key) => this.ports.read(keyspace, key)));
      const failed = reads.find((read) => !read.ok);
      if (failed !== undefined && !failed.ok) return failed;
      const current = reads.map((read, index) => ({ key: keys[index]!, ...(read as { ok: true; value: { found: boolean; value?: Uint8Array; version: number } }).value }));
      if (keys.length === 1 || (previous !== undefined && previous.every((read, index) => read.version === current[index]!.version))) return { ok: true, value: { reads: current, versions: [] } };
      previous = current;
    }
    return conflict([...keys], "the keys kept changing while they were read");
  }

  /** `keys` grouped by the group that serves each: the group a moved-to hint named for it, else the cached table's. */
  private async groupKeys(keyspace: Keyspace, keys: readonly string[], hints: ReadonlyMap<string, string>): Promise<ClusterResult<Map<string, { record: GroupRecord; keys: string[] }>>> {
    const groups = new Map<string, { record: GroupRecord; keys: string[] }>();
    for (const key of new Set(keys)) {
      const hint = hints.get(key);
      let record = hint === undefined ? undefined : await this.ports.activeGroup(hint);
      if (record === undefined || !record.ok) record = await this.ports.resolve(keyspace, key);
      if (!record.ok) return record;
      const entry = groups.get(record.value.name) ?? { record: record.value, keys: [] };
      entry.keys.push(key);
      groups.set(record.value.name, entry);
    }
    return { ok: true, value: groups };
  }
}

/** A group a transaction prepared (or tried to prepare) keys in: its resolve names those keys. */
interface Touched {
  readonly record: GroupRecord;
  readonly keys: Set<string>;
}

/** Notes where `keys` went when their group refused them with a moved-to hint; forgets the hint when it led nowhere. */
function noteHint(hints: Map<string, string>, keys: readonly string[], written: GroupResult<ApplyResult>): void {
  if (written.ok || !("stale" in written)) return;
  for (const key of keys) {
    if (written.movedTo === undefined) hints.delete(key);
    else hints.set(key, written.movedTo);
  }
}

/** The checks, writes and reads of `request` on the keys `mine` accepts. */
function workOf(request: TxnRequest, mine: (key: string) => boolean): { ops: BatchStep[]; reads: string[] } {
  const ops: BatchStep[] = [];
  for (const check of request.checks) if (mine(check.key)) ops.push({ type: "check", key: check.key, ifVersion: check.version });
  for (const write of request.writes) {
    if (!mine(write.key)) continue;
    ops.push(write.op === "put" ? { type: "put", key: write.key, value: write.value } : { type: "delete", key: write.key });
  }
  return { ops, reads: request.reads.filter(mine) };
}

function keysOf(request: TxnRequest): string[] {
  return [...new Set([...request.writes.map((write) => write.key), ...request.checks.map((check) => check.key), ...request.reads])];
}

function outcomeView(result: TxnApplied): TxnOutcome {
  const reads = result.reads.map((read) => ({ key: read.key, found: read.found, version: read.version, ...(read.valueBase64 === undefined ? {} : { value: decodeBase64(read.valueBase64) ?? new Uint8Array() }) }));
  return { reads, versions: result.versions };
}

function failureOf(result: ApplyResult, request: TxnRequest): ClusterError {
  if (result.ok) return { code: "badRequest", detail: `unexpected answer ${result.type} to a transaction` };
  switch (result.code) {
    case "conditionFailed":
      return conflict(result.failures.map((failure) => failure.key), `a check failed: ${result.failures.map((failure) => `${JSON.stringify(failure.key)} is at version ${failure.currentVersion}`).join(", ")}`).error;
    case "txnRefused":
      return conflict(keysOf(request), result.reason).error;
    case "badCommand":
      return { code: "badRequest", detail: result.reason };
    default:
      return { code: "unavailable", detail: `the transaction was refused (${result.code}); try again` };
  }
}

function conflict(keys: readonly string[], detail: string): { ok: false; error: ClusterError } {
  return { ok: false, error: { code: "txnConflict", keys: [...new Set(keys)], detail } };
}

function backoffMs(attempt: number): number {
  return Math.min(200, 10 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
}
