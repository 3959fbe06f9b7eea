/**
 * A bank in the multi-group simulator: accounts spread over the groups, transfer processes that
 * drive transactions like src/router (one-phase in one group; else begin, prepare every group,
 * decide, resolve, forget) and die mid-transaction at random (a router that crashed), snapshot
 * readers (by reads of each key, and by scans of each range: bank-scans.ts), and a sweeper that
 * settles intents and records past their deadline from their records, as every group's leader does
 * on a host. Checked while running: every snapshot (two read rounds that agree on every version)
 * sums to the initial total. Checked at the end (checkBank): no intent
 * or record is left in any replica, the total is conserved, every account holds its initial value
 * or one a transfer wrote that was not known aborted, and no known-committed write was lost.
 */
import type { Rng } from "../../src/shared/rng.ts";
import type { ApplyResult, KvStateMachine, Operation } from "../../src/kv/index.ts";
import type { BatchStep } from "../../src/kv/command.ts";
import { lookupKey } from "../../src/multiraft/keyspace.ts";
import { tickMs } from "./options.ts";
import { MultiGroupInvariantError, type MultiGroupWorld } from "./multigroup-world.ts";
import { BankRequests } from "./bank-requests.ts";
import { BankScans } from "./bank-scans.ts";

/** Each account's balance at the start. */
const initialBalance = 100;
/** A transaction's deadline after it begins, in ticks. */
const deadlineTicks = 60;

type Read = { ok: true; record: { value: Uint8Array; version: number } | undefined } | { ok: false; code: "intentFound"; intents: { txn: string; recordKey: string; deadlineMs: number }[] };
type Write = { readonly key: string; readonly version: number; readonly value: number; readonly txn: string };

/** Counters for reports. */
export interface BankStats {
  committed: number;
  aborted: number;
  died: number;
  snapshots: number;
  pushes: number;
  /** Snapshots by scans (bank-scans.ts) that two agreeing rounds made. */
  scanSnapshots: number;
}

/** The bank of one run. */
export class BankWorkload {
  readonly stats: BankStats = { committed: 0, aborted: 0, died: 0, snapshots: 0, pushes: 0, scanSnapshots: 0 };
  paused = false;
  readonly accounts: readonly string[];
  private readonly world: MultiGroupWorld;
  private readonly rng: Rng;
  private readonly requests: BankRequests;
  private readonly scans: BankScans;
  private readonly busyProcesses = new Set<number>();
  private readonly committedWrites: Write[] = [];
  private readonly abortedTxns = new Set<string>();
  private readonly plannedWrites: Write[] = [];
  /** Writes of one-phase transfers whose outcome is unknown (no answer): applied or not, their versions unknown. */
  private readonly uncertainWrites: Omit<Write, "version">[] = [];
  private txnCounter = 0;
  private seeded = false;
  private sweepAt = 0;
  /** Requests of the last sweep still in flight: a sweep starts only when the previous one ended. */
  private sweeping = 0;
  /** Processes that transfer; one more reads snapshots. */
  private readonly transferProcesses: number;

  constructor(world: MultiGroupWorld, rng: Rng, options: { transferProcesses?: number } = {}) {
    this.world = world;
    this.rng = rng;
    this.transferProcesses = options.transferProcesses ?? 2;
    this.accounts = world.keys.filter((_, index) => index % 2 === 0).map((key) => `${key}.acct`);
    this.requests = new BankRequests(world, rng, { attemptsMax: 6, timeoutTicks: world.options.electionTicks * 2 });
    const push = (txn: string, recordKey: string, key: string, done: () => void) => this.push(txn, recordKey, key, done);
    const committedVersion = (key: string) => this.committedWrites.reduce((newest, entry) => (entry.key === key ? Math.max(newest, entry.version) : newest), 0);
    this.scans = new BankScans({ world, requests: this.requests, accounts: this.accounts, total: initialBalance * this.accounts.length, push, committedVersion });
  }

  /** Whether anything is in flight. */
  get busy(): boolean {
    return this.requests.size > 0 || this.busyProcesses.size > 0;
  }

  /** One tick: resend requests; start transfers and snapshots; sweep. */
  onTick(): void {
    this.requests.onTick();
    if (!this.seeded) return this.seed();
    if (this.world.now >= this.sweepAt && this.sweeping === 0) {
      this.sweepAt = this.world.now + 50;
      this.sweep();
    }
    if (this.paused) return;
    for (let process = 0; process <= this.transferProcesses + 1; process++) {
      if (this.busyProcesses.has(process) || !this.rng.chance(0.1)) continue;
      this.busyProcesses.add(process);
      const end = () => this.busyProcesses.delete(process);
      if (process === this.transferProcesses) this.snapshot(end);
      else if (process === this.transferProcesses + 1) this.scans.snapshot(() => ((this.stats.scanSnapshots = this.scans.snapshots), end()));
      else this.transfer(end);
    }
  }

  /** Settles every intent and record whose deadline passed (what each group's leader sweeps). */
  sweep(): void {
    const clockMs = this.world.now * tickMs;
    for (const group of this.world.groups.values()) {
      const leader = group.world.leader();
      const machine = leader?.stateMachine;
      if (machine === null || machine === undefined) continue;
      const held = machine.transactions();
      const swept = () => this.sweeping--;
      const pushed = new Set<string>();
      for (const intent of held.intents) {
        if (intent.deadlineMs > clockMs || pushed.has(intent.txn)) continue; // one push per transaction: its resolve settles all its intents here
        pushed.add(intent.txn);
        this.sweeping++;
        this.push(intent.txn, intent.recordKey, intent.key, swept);
      }
      for (const [txn, record] of held.records) {
        if (record.deadlineMs > clockMs) continue;
        this.sweeping++;
        this.decide(txn, record.recordKey, "push", (status) => {
          if (status !== "committed" && status !== "aborted") return swept();
          let left = record.keys.length;
          let resolvedAll = true;
          const forget = (resolved: boolean) => {
            resolvedAll &&= resolved;
            if (--left > 0) return;
            if (resolvedAll) this.requests.send({ key: record.recordKey }, write({ type: "txn", action: "forget", txn, recordKey: record.recordKey }), swept);
            else swept(); // an unconfirmed resolve: the record must stay until every intent is known resolved
          };
          if (left === 0) forget(true);
          for (const key of record.keys) this.resolveAt(key, txn, status === "committed", forget);
        });
      }
    }
  }

  /** The final checks, after healing and a sweep that left the requests idle. */
  checkBank(): void {
    let total = 0;
    for (const group of this.world.groups.values()) {
      for (const replica of group.world.alive()) {
        const held = replica.stateMachine!.transactions();
        if (held.intents.length > 0 || held.records.length > 0) throw new MultiGroupInvariantError(`${group.name} replica ${replica.id} still holds ${held.intents.length} intents and ${held.records.length} records`);
      }
    }
    for (const account of this.accounts) {
      const machine = this.world.group(lookupKey(this.world.table.value, account).group).world.leader()!.stateMachine!;
      const record = machine.get(account)!;
      const value = Number(new TextDecoder().decode(record.value));
      total += value;
      const newestCommitted = this.committedWrites.filter((entry) => entry.key === account).reduce((best, entry) => Math.max(best, entry.version), 0);
      if (record.version < newestCommitted) throw new MultiGroupInvariantError(`${account} is at version ${record.version}, below the committed write ${newestCommitted}`);
      const writer = this.plannedWrites.find((entry) => entry.key === account && entry.version === record.version);
      if (writer !== undefined && (this.abortedTxns.has(writer.txn) || writer.value !== value)) throw new MultiGroupInvariantError(`${account} holds the write of ${writer.txn}, which was aborted or wrote another value`);
      const uncertain = this.uncertainWrites.some((entry) => entry.key === account && entry.value === value);
      if (writer === undefined && value !== initialBalance && !uncertain) throw new MultiGroupInvariantError(`${account} holds ${value}, written by no transfer`);
    }
    if (total !== initialBalance * this.accounts.length) throw new MultiGroupInvariantError(`the bank holds ${total}, not ${initialBalance * this.accounts.length}`);
  }

  private seed(): void {
    if (this.busyProcesses.has(-1)) return;
    this.busyProcesses.add(-1);
    let left = this.accounts.length;
    // Create-only, so a retry after an unknown outcome finds the account there (conditionFailed) and is done.
    const create = (account: string) =>
      this.requests.send({ key: account }, write({ type: "put", key: account, value: new TextEncoder().encode(String(initialBalance)), condition: { ifAbsent: true } }), (answer) => {
        const result = answer as ApplyResult | undefined;
        if (result === undefined) return create(account);
        if (!result.ok && result.code !== "conditionFailed") throw new MultiGroupInvariantError(`seeding ${account} failed: ${JSON.stringify(result)}`);
        if (--left === 0) {
          this.seeded = true;
          this.busyProcesses.delete(-1);
        }
      });
    for (const account of this.accounts) create(account);
  }

  /** Reads `keys` (one round), or reports the first intent met (after pushing it). */
  private readAll(keys: readonly string[], done: (reads: Map<string, { value: number; version: number }> | undefined) => void): void {
    const reads = new Map<string, { value: number; version: number }>();
    let left = keys.length;
    let failed = false;
    for (const key of keys) {
      this.requests.send({ key }, { kind: "read", read: (machine: KvStateMachine) => machine.read(key) }, (answer) => {
        const read = answer as Read | undefined;
        if (read === undefined) failed = true;
        else if (!read.ok) {
          failed = true;
          const intent = read.intents[0]!;
          if (intent.deadlineMs <= this.world.now * tickMs) this.push(intent.txn, intent.recordKey, key, () => {}); // else its transaction is live: try again later
        } else reads.set(key, { value: Number(new TextDecoder().decode(read.record!.value)), version: read.record!.version });
        if (--left === 0) done(failed ? undefined : reads);
      });
    }
  }

  private snapshot(end: () => void): void {
    this.readAll(this.accounts, (first) => {
      if (first === undefined) return end();
      this.readAll(this.accounts, (second) => {
        end();
        if (second === undefined || this.accounts.some((key) => first.get(key)!.version !== second.get(key)!.version)) return;
        this.stats.snapshots++;
        const sum = [...second.values()].reduce((total, read) => total + read.value, 0);
        if (sum !== initialBalance * this.accounts.length) throw new MultiGroupInvariantError(`a snapshot read sums to ${sum}: it saw half a transfer`);
      });
    });
  }

  private transfer(end: () => void): void {
    const from = this.accounts[this.rng.int(this.accounts.length)]!;
    const others = this.accounts.filter((account) => account !== from);
    const to = others[this.rng.int(others.length)]!;
    const amount = 1 + this.rng.int(20);
    this.readAll([from, to], (reads) => {
      if (reads === undefined) return end();
      const txn = `bank-${++this.txnCounter}`;
      const target = (key: string) => reads.get(key)!.value + (key === from ? -amount : amount);
      const opsOf = (keys: string[]): BatchStep[] => keys.flatMap((key) => [{ type: "check", key, ifVersion: reads.get(key)!.version } as BatchStep, { type: "put", key, value: new TextEncoder().encode(String(target(key))) } as BatchStep]);
      const byGroup = new Map<string, string[]>();
      for (const key of [from, to]) byGroup.set(lookupKey(this.world.table.value, key).group, [...(byGroup.get(lookupKey(this.world.table.value, key).group) ?? []), key]);
      const note = (versions: readonly { key: string; version: number }[], committed: boolean) => {
        for (const { key, version } of versions) (committed ? this.committedWrites : this.plannedWrites).push({ key, version, value: target(key), txn });
      };
      if (byGroup.size === 1) {
        this.requests.send({ key: from }, write({ type: "txn", action: "onePhase", ops: opsOf([from, to]), reads: [] }), (answer) => {
          const result = answer as ApplyResult | undefined;
          if (result?.ok === true && result.type === "txn") {
            note(result.versions, false);
            note(result.versions, true);
            this.stats.committed++;
          } else if (result === undefined) {
            for (const key of [from, to]) this.uncertainWrites.push({ key, value: target(key), txn });
          }
          end();
        });
        return;
      }
      this.twoPhase({ txn, recordKey: from, keys: [from, to], byGroup, opsOf, note }, end);
    });
  }

  private twoPhase(plan: { txn: string; recordKey: string; keys: string[]; byGroup: Map<string, string[]>; opsOf: (keys: string[]) => BatchStep[]; note: (versions: readonly { key: string; version: number }[], committed: boolean) => void }, end: () => void): void {
    const { txn, recordKey } = plan;
    const deadlineMs = (this.world.now + deadlineTicks) * tickMs;
    const dies = () => {
      if (!this.rng.chance(0.05)) return false;
      this.stats.died++;
      end();
      return true;
    };
    this.requests.send({ key: recordKey }, write({ type: "txn", action: "begin", txn, recordKey, deadlineMs, keys: plan.keys }), (begun) => {
      if ((begun as ApplyResult | undefined)?.ok !== true || dies()) return end();
      let left = plan.byGroup.size;
      let prepared = true;
      const versions: { key: string; version: number }[] = [];
      for (const keys of plan.byGroup.values()) {
        this.requests.send({ key: keys[0]! }, write({ type: "txn", action: "prepare", txn, recordKey, deadlineMs, ops: plan.opsOf(keys), reads: [] }), (answer) => {
          const result = answer as ApplyResult | undefined;
          if (result?.ok === true && result.type === "txn") versions.push(...result.versions);
          else prepared = false;
          if (--left > 0 || dies()) return;
          plan.note(versions, false);
          this.decide(txn, recordKey, prepared ? "commit" : "abort", (status) => {
            if (status === "committed") {
              plan.note(versions, true);
              this.stats.committed++;
            } else if (status === "aborted") {
              this.abortedTxns.add(txn);
              this.stats.aborted++;
            }
            if (status === undefined || status === "pending" || dies()) return end();
            let resolving = plan.keys.length;
            let resolvedAll = true;
            for (const key of plan.keys) {
              this.resolveAt(key, txn, status === "committed", (resolved) => {
                resolvedAll &&= resolved;
                if (--resolving > 0) return;
                if (resolvedAll) this.requests.send({ key: recordKey }, write({ type: "txn", action: "forget", txn, recordKey }), () => end());
                else end(); // the record stays: the sweep resolves and forgets it
              });
            }
          });
        });
      }
    });
  }

  private decide(txn: string, recordKey: string, decision: "commit" | "abort" | "push", done: (status: string | undefined) => void): void {
    this.requests.send({ key: recordKey }, write({ type: "txn", action: "decide", txn, recordKey, decision }), (answer) => {
      const result = answer as ApplyResult | undefined;
      done(result?.ok === true && result.type === "txnStatus" ? result.status : undefined);
    });
  }

  /** Resolves `txn`'s intents in the group that serves `key` (routed by the key, which the command names); `done` says whether it applied. */
  private resolveAt(key: string, txn: string, commit: boolean, done: (resolved: boolean) => void): void {
    this.requests.send({ key }, write({ type: "txn", action: "resolve", txn, commit, keys: [key] }), (answer) => done((answer as ApplyResult | undefined)?.ok === true));
  }

  /** What a reader meeting an intent does: push the record; resolve the intent from a decision. */
  private push(txn: string, recordKey: string, key: string, done: () => void): void {
    this.stats.pushes++;
    this.decide(txn, recordKey, "push", (status) => {
      // A push's "aborted" may be a tombstone written for a record already forgotten, so only a transfer's own decision counts as its outcome.
      if (status === "committed" || status === "aborted") {
        this.resolveAt(key, txn, status === "committed", () => done());
      } else done();
    });
  }
}

function write(operation: Operation): { kind: "write"; operation: Operation } {
  return { kind: "write", operation };
}
