/**
 * Scan readers of the simulator's bank: a snapshot of every account by scans, as the router reads a
 * page across groups (src/router/cluster-client/scan.ts): one scanOwned read per range of the table,
 * a page that meets intents refused (the reader pushes their records and resolves them, then gives
 * up the round), and two rounds that agree on every key and version make a snapshot. Every snapshot
 * must hold every account, none older than a write known committed before the scan began, and sum
 * to the bank's total: a scan that read past an unresolved committed write, or that saw half a
 * transfer, fails the seed.
 */
import type { KvStateMachine } from "../../src/kv/index.ts";
import { entriesWithin } from "../../src/multiraft/keyspace.ts";
import { scanLimitMax } from "../../src/shared/limits.ts";
import type { BankRequests } from "./bank-requests.ts";
import { MultiGroupInvariantError, type MultiGroupWorld } from "./multigroup-world.ts";

type Balances = Map<string, { value: number; version: number }>;
type Intent = { key: string; txn: string; recordKey: string };
type ScanAnswer = { ok: true; page: { entries: { key: string; value: Uint8Array; version: number }[]; cursor?: string } } | { ok: false; code: string; intents?: Intent[] };

/** What the scan readers need from the bank. */
export interface BankScanPorts {
  readonly world: MultiGroupWorld;
  readonly requests: BankRequests;
  readonly accounts: readonly string[];
  /** The sum every snapshot must show. */
  readonly total: number;
  /** The newest version of `key` that a transfer known committed (its decision read) wrote; 0 when none. */
  committedVersion(key: string): number;
  /** Pushes `txn`'s record and resolves its intent on `key` from the decision (as a reader that met it). */
  push(txn: string, recordKey: string, key: string, done: () => void): void;
}

/** Takes snapshots of the accounts by scans and checks them. */
export class BankScans {
  /** Snapshots that two agreeing rounds made (and that were checked). */
  snapshots = 0;
  private readonly ports: BankScanPorts;

  constructor(ports: BankScanPorts) {
    this.ports = ports;
  }

  /** One snapshot attempt: two rounds; checked when they agree. `end` runs when it is over. */
  snapshot(end: () => void): void {
    const committedBefore = new Map(this.ports.accounts.map((account) => [account, this.ports.committedVersion(account)]));
    this.round((first) => {
      if (first === undefined) return end();
      this.round((second) => {
        if (second !== undefined && agree(first, second)) this.check(second, committedBefore);
        end();
      });
    });
  }

  /** Every account present, none older than a write known committed before the scan began (real time), and the total held. */
  private check(balances: Balances, committedBefore: ReadonlyMap<string, number>): void {
    this.snapshots++;
    const missing = this.ports.accounts.filter((account) => !balances.has(account));
    if (missing.length > 0) throw new MultiGroupInvariantError(`a scan snapshot lacks accounts ${missing.join(", ")}`);
    for (const [account, version] of committedBefore) {
      const seen = balances.get(account)!.version;
      if (seen < version) throw new MultiGroupInvariantError(`a scan read ${account} at version ${seen}, older than the version ${version} a transfer was known to commit before the scan began`);
    }
    const sum = this.ports.accounts.reduce((total, account) => total + balances.get(account)!.value, 0);
    if (sum !== this.ports.total) throw new MultiGroupInvariantError(`a scan snapshot sums to ${sum}, not ${this.ports.total}: it read past an unresolved write or saw half a transfer`);
  }

  /** Scans every range of the current table once; undefined when a range refused (moved, frozen, intents met) or did not answer. */
  private round(done: (balances: Balances | undefined) => void): void {
    const accounts = new Set(this.ports.accounts);
    const ranges = entriesWithin(this.ports.world.table.value, { start: "" });
    const balances: Balances = new Map();
    let left = ranges.length;
    let failed = false;
    for (const range of ranges) {
      const request = { start: range.start, ...(range.end === undefined ? {} : { end: range.end }), limit: scanLimitMax };
      const read = (machine: KvStateMachine) => ({ scan: machine.scanOwned(request) }); // wrapped: a refusal comes back here, not re-routed
      this.ports.requests.send({ group: range.group }, { kind: "read", read }, (answer) => {
        const scan = (answer as { scan: ScanAnswer } | undefined)?.scan;
        if (scan === undefined || !scan.ok || scan.page.cursor !== undefined) {
          failed = true;
          if (scan?.ok === false && scan.intents !== undefined) this.settle(scan.intents);
        } else {
          for (const entry of scan.page.entries) if (accounts.has(entry.key)) balances.set(entry.key, { value: Number(new TextDecoder().decode(entry.value)), version: entry.version });
        }
        if (--left === 0) done(failed ? undefined : balances);
      });
    }
  }

  /** Pushes each transaction met once (the router's settle): a decided one is resolved, a pending one past its deadline aborted. */
  private settle(intents: readonly Intent[]): void {
    const pushed = new Set<string>();
    for (const intent of intents) {
      if (pushed.has(intent.txn)) continue;
      pushed.add(intent.txn);
      this.ports.push(intent.txn, intent.recordKey, intent.key, () => {});
    }
  }
}

function agree(first: Balances, second: Balances): boolean {
  return first.size === second.size && [...first].every(([key, read]) => second.get(key)?.version === read.version);
}
