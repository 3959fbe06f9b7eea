/**
 * The KV state machine that every Raft group applies: versioned records, conditional writes,
 * atomic batches, client sessions (Raft thesis 6.3), ordered paged scans and full snapshots.
 * Deterministic: the same entries in the same order give the same state and results on every replica.
 * A host with a durable store persists the rest of the state beside the records: whole with
 * metaSnapshot(), or after every apply with takeMetaChanges() (the counters and the changed sessions).
 */
import { assert, assertIndex } from "../shared/assert.ts";
import { scanLimitMax, sessionsMax } from "../shared/limits.ts";
import { decodeCommand } from "./command-codec.ts";
import type { Command, Operation } from "./command.ts";
import { readRefusal, scanRefusal, servesKey, writeRefusal, type RangeOwnership } from "./ownership.ts";
import { applyRangeChange, exportPage, medianServedKey, type ExportPage, type RangeTarget } from "./range-apply.ts";
import { scanSpanOf, type Span } from "./span.ts";
import { keySuccessor, laterKey, utf8BytesOf } from "./key-order.ts";
import type { ApplyResult, IntentFound, KeyRefusal } from "./result.ts";
import { SessionTable, type SessionChanges, type StoredSession } from "./sessions.ts";
import { decodeSnapshot, encodeSnapshot, type KvSnapshot } from "./snapshot-codec.ts";
import type { KvEntry, KvRecord, KvStore, ScanRange } from "./store.ts";
import { keysOfTxnOperation } from "./txn-command.ts";
import { applyTxn, intentsBlocking, type TxnTarget } from "./txn-apply.ts";
import { intentsInPage } from "./txn-scan.ts";
import { applyWrite } from "./write-apply.ts";
import { TxnTable, type IntentView, type TxnRecord } from "./txn-state.ts";

/** Default idle time after which a client session expires, in milliseconds (10 minutes). */
export const sessionTtlMsDefault = 10 * 60 * 1000;

/** How many records snapshot() reads from the store at a time. */
const snapshotPageLength = 4096;

/** Options of a KvStateMachine; every replica of a group must use the same ones. */
export interface KvStateMachineOptions {
  /** Sessions idle longer than this expire, in milliseconds; default sessionTtlMsDefault. */
  readonly sessionTtlMs?: number;
  /** Most sessions kept; the least recently used is evicted past it. Default and ceiling: limits.sessionsMax. */
  readonly sessionsMax?: number;
  /**
   * Reopens durable state: bytes written by metaSnapshot() or takeMetaChanges().counters, while
   * `store` already holds the records that went with them (a host whose store is durable, such as
   * SQLite, restarting).
   */
  readonly resume?: Uint8Array;
  /**
   * With resume: the session rows the host stored from takeMetaChanges(), in any order. When the
   * resume bytes carry sessions themselves (metaSnapshot(), or a host from before session rows),
   * there must be no rows; those sessions are then all upserted at the next takeMetaChanges().
   */
  readonly resumeSessions?: readonly StoredSession[];
}

/**
 * What a host writes after applying to keep its durable copy equal to the state machine: the
 * counters, and the session rows changed since it last took changes.
 */
export interface MetaChanges extends SessionChanges {
  /** Applied index, version counter and clock: metaSnapshot() bytes without sessions, to pass back as resume. */
  readonly counters: Uint8Array;
}

/** A scan request: a range, a page size (1..scanLimitMax, default scanLimitMax) and the cursor of the previous page. */
export interface ScanRequest extends ScanRange {
  readonly limit?: number;
  /** The `cursor` of the previous page; absent for the first page. */
  readonly cursor?: string;
}

/** One page of a scan: records in ascending key order, and a cursor when more records may follow. */
export interface ScanPage {
  readonly entries: KvEntry[];
  /** Pass back as `cursor` with the same range to read the next page. It is the key to resume at, inclusive. */
  readonly cursor?: string;
}

/** The outcome of restore: success, or why the bytes are not a snapshot (state then unchanged). */
export type RestoreResult = { readonly ok: true } | { readonly ok: false; readonly code: "badSnapshot"; readonly reason: string };

/**
 * The KV state machine over a KvStore.
 *
 * Versions: one counter; every write (each put and delete, also inside a batch) takes ++counter, so
 * a key's version strictly increases with every write, also across delete and re-create. A delete
 * removes the record; no tombstone is needed because the counter is global.
 *
 * Sessions: a command whose seq equals its client's last applied seq is not applied again and gets
 * the cached result; a lower seq gets sessionExpired. A command from a client without a session
 * (new, expired or evicted) is applied whatever its seq: it is new to us. So retries are applied
 * exactly once while the session lives (sessionTtlMs of idleness, and within sessionsMax clients);
 * a retry that arrives after its session expired is applied again.
 */
export class KvStateMachine {
  private readonly store: KvStore;
  private readonly sessions: SessionTable;
  private appliedIndexValue = 0;
  private versionCounterValue = 0;
  private clockMsValue = 0;
  /** What the group owns; undefined until its first range command (it then serves every key, as the metadata group does). */
  private ownershipValue: RangeOwnership | undefined;
  /** Intents on this group's keys, records of the transactions it coordinates, transactions ended here. */
  private readonly txns = new TxnTable();

  /** A state machine over an empty `store` (load earlier state with restore), or over durable state with options.resume. */
  constructor(store: KvStore, options: KvStateMachineOptions = {}) {
    const countMax = options.sessionsMax ?? sessionsMax;
    assert(countMax <= sessionsMax, "sessionsMax option is within limits.sessionsMax");
    this.store = store;
    this.sessions = new SessionTable({ ttlMs: options.sessionTtlMs ?? sessionTtlMsDefault, countMax });
    const storedSessions = options.resumeSessions ?? [];
    if (options.resume === undefined) {
      assert(store.count() === 0, "a new state machine starts from an empty store");
      assert(storedSessions.length === 0, "stored sessions come with the counters stored beside them");
      return;
    }
    const decoded = decodeSnapshot(options.resume);
    assert(decoded.ok && decoded.snapshot.entries.length === 0, "resume bytes come from metaSnapshot() or takeMetaChanges()");
    this.loadMeta(decoded.snapshot);
    if (options.resumeSessions === undefined || decoded.snapshot.sessions.length > 0) {
      assert(storedSessions.length === 0, "sessions are stored inside the resume bytes or as rows, never both");
      return;
    }
    this.sessions.loadStored(storedSessions, this.clockMsValue);
  }

  /**
   * Everything but the records (applied index, counter, clock, sessions): what a host with a
   * durable store may persist next to it after applying, to reopen with options.resume. It encodes
   * every session; a host that persists after every apply should use takeMetaChanges() instead.
   */
  metaSnapshot(): Uint8Array {
    return this.encodeMeta(this.sessions.entries());
  }

  /**
   * The counters and the sessions changed (used, evicted, expired, or all of them after a restore)
   * since the previous call or since construction; the next call reports only later changes. A host
   * that writes these after every apply reopens with resume: counters and resumeSessions: its rows.
   */
  takeMetaChanges(): MetaChanges {
    return { counters: this.encodeMeta([]), ...this.sessions.takeChanges() };
  }

  /** Index of the last applied entry (0 before the first). */
  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** The last version handed out (0 before the first write). */
  get versionCounter(): number {
    return this.versionCounterValue;
  }

  /** The largest timeMs of any applied command: the clock that expires sessions. */
  get clockMs(): number {
    return this.clockMsValue;
  }

  /** What the group owns (undefined: never given ranges, serves every key). */
  get ownership(): RangeOwnership | undefined {
    return this.ownershipValue;
  }

  /** How many client sessions are live. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Applies the command in the entry at `index`; indexes strictly increase (gaps are fine). */
  apply(index: number, data: Uint8Array): ApplyResult {
    assertIndex(index, "apply index");
    assert(index > this.appliedIndexValue, () => `apply index ${index} must exceed the applied index ${this.appliedIndexValue}`);
    this.appliedIndexValue = index;
    const decoded = decodeCommand(data);
    return decoded.ok ? this.applyCommand(decoded.command) : decoded;
  }

  /** The record at `key`, read locally without the log, or undefined when absent. */
  get(key: string): KvRecord | undefined {
    return this.store.get(key);
  }

  /** The record at `key` when this group serves it (undefined = absent), or why it does not serve it, or the transaction whose write intent holds it. */
  read(key: string): { readonly ok: true; readonly record: KvRecord | undefined } | KeyRefusal | IntentFound {
    return readRefusal(this.ownershipValue, key) ?? intentsBlocking(this.txns, [key], undefined, true) ?? { ok: true, record: this.store.get(key) };
  }

  /** Whether this group holds any intent or transaction record (cheap: the sweep's timer asks it often). */
  get holdsTransactions(): boolean {
    return this.txns.busy;
  }

  /** The intents and transaction records this group holds (for the sweep, and for tests). */
  transactions(): { readonly intents: IntentView[]; readonly records: [string, TxnRecord][]; readonly intentValueBytes: number } {
    return { intents: this.txns.intentViews(), records: [...this.txns.records], intentValueBytes: this.txns.intentValueBytes };
  }

  /**
   * One page of `request`: in range mode when this group serves its whole range (else why not); in
   * hash mode the keys of its slots. Refused with intentFound when other transactions' write intents
   * lie on keys the page covers (see txn-scan.ts).
   */
  scanOwned(request: ScanRequest): { readonly ok: true; readonly page: ScanPage } | KeyRefusal | IntentFound {
    const ownership = this.ownershipValue;
    const refusal = ownership?.mode === "hash" ? undefined : ownership && scanRefusal(ownership, scanSpanOf(request));
    if (refusal !== undefined) return refusal;
    const scanned = this.scan(request);
    // hash mode: this group's slots are spread over every key range
    const page = ownership?.mode === "hash" ? { ...scanned, entries: scanned.entries.filter((entry) => servesKey(ownership, entry.key)) } : scanned;
    return intentsInPage(this.txns, { ...request, pageCursor: page.cursor }, (key) => servesKey(ownership, key)) ?? { ok: true, page };
  }

  /** One page of a span that `saga` froze here, for the saga to install in the target; undefined when not frozen by it. */
  exportRange(saga: string, span: Span, cursor?: string): ExportPage | undefined {
    return exportPage(this.store, this.ownershipValue, saga, span, cursor, { versionCounter: this.versionCounterValue, sessions: this.sessions.entries(), txns: this.txns });
  }

  /** The key in the middle of the records this group serves (undefined with fewer than two). */
  medianKey(): string | undefined {
    return medianServedKey(this.store, this.ownershipValue);
  }

  /** One page of records in `request`'s range, read locally without the log. */
  scan(request: ScanRequest = {}): ScanPage {
    const limit = request.limit ?? scanLimitMax;
    assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= scanLimitMax, () => `scan limit ${limit} is within 1..${scanLimitMax}`);
    for (const bound of [request.start, request.end, request.prefix, request.cursor]) {
      assert(bound === undefined || utf8BytesOf(bound) !== undefined, "scan bounds are well-formed strings");
    }
    const range = { start: laterKey(request.start, request.cursor), end: request.end, prefix: request.prefix };
    const entries = this.store.scan(range, limit + 1);
    if (entries.length <= limit) return { entries };
    entries.length = limit;
    return { entries, cursor: keySuccessor((entries[limit - 1] as KvEntry).key) };
  }

  /** The full state (records, versions, counter, clock, sessions, applied index) as bytes. */
  snapshot(): Uint8Array {
    const entries = this.allEntries();
    assert(entries.length === this.store.count(), "snapshot holds every record");
    return encodeSnapshot({
      appliedIndex: this.appliedIndexValue,
      versionCounter: this.versionCounterValue,
      clockMs: this.clockMsValue,
      sessions: this.sessions.entries(),
      entries,
      ...this.ownershipField(),
      ...this.txnField(),
    });
  }

  /** Replaces the whole state with the snapshot in `data`; leaves the state unchanged when `data` is malformed. */
  restore(data: Uint8Array): RestoreResult {
    const decoded = decodeSnapshot(data);
    if (!decoded.ok) return decoded;
    const { snapshot } = decoded;
    this.store.clear();
    for (const entry of snapshot.entries) this.store.set(entry.key, { value: entry.value, version: entry.version });
    this.loadMeta(snapshot);
    assert(this.store.count() === snapshot.entries.length, "restore stored every record");
    return { ok: true };
  }

  private encodeMeta(sessions: KvSnapshot["sessions"]): Uint8Array {
    return encodeSnapshot({
      appliedIndex: this.appliedIndexValue,
      versionCounter: this.versionCounterValue,
      clockMs: this.clockMsValue,
      sessions,
      entries: [],
      ...this.ownershipField(),
      ...this.txnField(),
    });
  }

  private ownershipField(): { ownership?: RangeOwnership } {
    return this.ownershipValue === undefined ? {} : { ownership: this.ownershipValue };
  }

  private txnField(): Pick<KvSnapshot, "txn"> {
    const txn = this.txns.toJson();
    return txn === undefined ? {} : { txn };
  }

  private loadMeta(snapshot: KvSnapshot): void {
    this.sessions.load(snapshot.sessions);
    this.appliedIndexValue = snapshot.appliedIndex;
    this.versionCounterValue = snapshot.versionCounter;
    this.clockMsValue = snapshot.clockMs;
    this.ownershipValue = snapshot.ownership;
    const txns = TxnTable.fromJson(snapshot.txn, snapshot.versionCounter);
    assert(typeof txns !== "string", "decoded snapshots hold valid transaction state");
    this.txns.replaceWith(txns);
  }

  /** Every record in key order, read from the store a page at a time. */
  private allEntries(): KvEntry[] {
    const entries: KvEntry[] = [];
    let start: string | undefined;
    for (;;) {
      const page = this.store.scan(start === undefined ? {} : { start }, snapshotPageLength);
      for (const entry of page) entries.push(entry);
      const last = page[page.length - 1];
      if (page.length < snapshotPageLength || last === undefined) return entries;
      start = keySuccessor(last.key);
    }
  }

  private applyCommand(command: Command): ApplyResult {
    this.clockMsValue = Math.max(this.clockMsValue, command.timeMs);
    this.sessions.expire(this.clockMsValue);
    const session = this.sessions.find(command.clientId);
    if (session !== undefined && command.seq <= session.lastSeq) {
      this.sessions.touch(command.clientId, this.clockMsValue);
      if (command.seq === session.lastSeq) return session.result;
      return { ok: false, code: "sessionExpired", lastSeq: session.lastSeq };
    }
    const result = this.execute(command.operation);
    // A key this group does not serve (or serves frozen) was not touched: leave no trace in the
    // session, so the router's retry of the same seq, here or in the group that owns the key, applies.
    if (!result.ok && (result.code === "wrongRange" || result.code === "rangeFrozen" || result.code === "intentFound")) return result;
    this.sessions.record(command.clientId, { lastSeq: command.seq, result, lastUsedMs: this.clockMsValue });
    return result;
  }

  private execute(operation: Operation): ApplyResult {
    const refusal = this.writeRefusalOf(operation);
    if (refusal !== undefined) return refusal;
    if (operation.type === "put" || operation.type === "delete" || operation.type === "batch") {
      const blocked = intentsBlocking(this.txns, operation.type === "batch" ? operation.ops.map((step) => step.key) : [operation.key], undefined);
      if (blocked !== undefined) return blocked;
    }
    switch (operation.type) {
      case "put":
      case "delete":
      case "batch":
        return applyWrite(this.txnTarget(), operation);
      case "noop":
        return { ok: true, type: "noop" };
      case "range":
        return applyRangeChange(this.rangeTarget(), operation.change);
      case "txn":
        return applyTxn(this.txnTarget(), operation);
    }
  }

  /** The first key of a write that this group may not write now, or undefined. */
  private writeRefusalOf(operation: Operation): KeyRefusal | undefined {
    if (this.ownershipValue === undefined) return undefined;
    if (operation.type === "put" || operation.type === "delete") return writeRefusal(this.ownershipValue, operation.key);
    if (operation.type !== "batch" && operation.type !== "txn") return undefined;
    const keys = operation.type === "batch" ? operation.ops.map((step) => step.key) : operation.action === "resolve" ? [...keysOfTxnOperation(operation), ...this.txns.keysOf(operation.txn).filter((key) => servesKey(this.ownershipValue, key))] : keysOfTxnOperation(operation);
    for (const key of keys) {
      const refusal = writeRefusal(this.ownershipValue, key);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  /** The view of this state machine that range commands change. */
  private rangeTarget(): RangeTarget {
    const machine = this;
    return {
      store: this.store,
      get ownership() {
        return machine.ownershipValue;
      },
      set ownership(value) {
        machine.ownershipValue = value;
      },
      raiseVersionCounter: (floor) => void (this.versionCounterValue = Math.max(this.versionCounterValue, floor)),
      mergeSessions: (sessions) => this.sessions.adopt(sessions, this.clockMsValue),
      txns: this.txns,
    };
  }

  /** The view of this state machine that transaction commands change. */
  private txnTarget(): TxnTarget {
    const machine = this;
    return {
      store: this.store,
      table: this.txns,
      clockMs: this.clockMsValue,
      get versionCounter() {
        return machine.versionCounterValue;
      },
      takeVersion: () => this.takeVersion(),
      serves: (key) => servesKey(this.ownershipValue, key),
    };
  }

  /** Advances the version counter for one write and returns the version that write takes. */
  private takeVersion(): number {
    const version = this.versionCounterValue + 1;
    assertIndex(version, "version counter");
    this.versionCounterValue = version;
    return version;
  }
}
