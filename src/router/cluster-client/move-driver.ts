/**
 * Drives move sagas (src/multiraft/move-saga.ts) from the router: records each saga in the
 * metadata group (`sagas/<id>`) before its first step and after every step, with compare-and-set,
 * and carries out the actions against the groups. A driver that dies leaves the record; whoever
 * finds it unfinished and not advanced for a while (another admin operation, a router that keeps
 * meeting a frozen range) resumes it from the recorded phase. Every action is idempotent, so a step
 * done twice is harmless; the source group's log decides commit or rollback exactly once. The route
 * step names only the group that serves the span when it runs (the table read, then the target's
 * ownership read linearizably, then a compare-and-set write on the table's version, always), so a
 * driver that stalled after routing and wakes after the span moved on cannot give the span back
 * (src/multiraft/move-saga.ts has the argument).
 */
import { decodeBase64 } from "../../shared/base64.ts";
import type { InstalledRecord, InstalledSession } from "../../kv/command.ts";
import type { TxnStateJson } from "../../kv/txn-state.ts";
import type { Span } from "../../kv/span.ts";
import type { RangeTable } from "../../multiraft/keyspace.ts";
import { advance, isFinished, nextAction, routedTable, type MoveAction, type MoveOutcome, type MovePhase, type MoveSaga } from "../../multiraft/move-saga.ts";
import type { ClusterResult } from "../cluster.ts";
import { logEvent } from "../log.ts";
import type { GroupIo } from "./group-io.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** A saga as the metadata group records it. */
interface SagaRecord {
  saga: MoveSaga;
  /** When a driver last advanced it (epoch milliseconds); others resume it only after resumeAfterMs of silence. */
  updatedAtMs: number;
}

/** How long a saga must be silent before another driver takes it over, in milliseconds. */
export const sagaResumeAfterMs = 5_000;
/** How long a finished saga's record is kept (for drivers that raced on it), in milliseconds. */
const finishedKeepMs = 120_000;

/** The answer of /internal/export. */
type ExportAnswer =
  | { kind: "ok"; records: { key: string; valueBase64: string; version: number }[]; sessions: InstalledSession[]; versionFloor: number; txn?: TxnStateJson; cursor?: string }
  | { kind: "notFrozen" };

/** The answer of /internal/ranges: the spans the group serves (null: never given ranges). */
type RangesAnswer = { kind: "ok"; spans: Span[] | null } | { kind: string };

/** Runs and resumes move sagas. */
export class MoveDriver {
  private readonly meta: Metadata;
  private readonly io: GroupIo;
  private readonly caller: ReplicaCaller;
  private readonly record: (name: string) => Promise<ClusterResult<GroupRecord>>;
  private readonly tableChanged: () => void;
  /** Fault injection (dev and tests only): the next saga to reach this phase stops there, as if its router died. */
  haltBefore: MovePhase | undefined;

  /** `record` finds a group's record; `tableChanged` drops the router's cached range table. */
  constructor(options: { meta: Metadata; io: GroupIo; caller: ReplicaCaller; record: (name: string) => Promise<ClusterResult<GroupRecord>>; tableChanged: () => void }) {
    this.meta = options.meta;
    this.io = options.io;
    this.caller = options.caller;
    this.record = options.record;
    this.tableChanged = options.tableChanged;
  }

  /** Records a new saga and runs it to its end; the finished saga (done, or rolled back with a reason). */
  async run(saga: MoveSaga): Promise<ClusterResult<MoveSaga>> {
    const created = await this.meta.applyVersioned([Metadata.put(`sagas/${saga.id}`, { saga, updatedAtMs: Date.now() } satisfies SagaRecord, 0)]);
    if (!created.ok) return created;
    return this.drive(saga, created.value[0] ?? 0);
  }

  /** Resumes every unfinished saga that no driver advanced for sagaResumeAfterMs (or every one, with `force`). */
  async resumeStale(force = false): Promise<void> {
    const records = await this.meta.list<SagaRecord>("sagas/");
    if (!records.ok) return;
    for (const record of records.value) {
      if (isFinished(record.saga)) {
        // Kept so that racing drivers learn the outcome; removed once nobody can still be racing.
        if (Date.now() - record.updatedAtMs > finishedKeepMs) await this.meta.apply([{ type: "delete", key: `sagas/${record.saga.id}` }]);
        continue;
      }
      if (!force && Date.now() - record.updatedAtMs < sagaResumeAfterMs) continue;
      const current = await this.meta.read<SagaRecord>(`sagas/${record.saga.id}`);
      if (current.ok && current.value !== undefined) await this.drive(current.value.value.saga, current.value.version);
    }
  }

  private async drive(start: MoveSaga, startVersion: number): Promise<ClusterResult<MoveSaga>> {
    let saga = start;
    let version = startVersion;
    const fields = { saga: start.id, group: start.from, to: start.to, start: start.span.start, end: start.span.end ?? null };
    logEvent("info", start.phase === "freeze" ? "moveStarted" : "moveResumed", { ...fields, phase: start.phase });
    while (!isFinished(saga)) {
      if (this.haltBefore === saga.phase) {
        this.haltBefore = undefined;
        return { ok: false, error: { code: "unavailable", detail: `the move stopped before ${saga.phase} (fault injection); it resumes when met` } };
      }
      const outcome = await this.carry(nextAction(saga));
      if (!outcome.ok) return outcome; // unreachable group or metadata: the record stays for a resume
      const next = advance(saga, outcome.value);
      const written = await this.meta.applyVersioned([Metadata.put(`sagas/${saga.id}`, { saga: next, updatedAtMs: Date.now() } satisfies SagaRecord, version)]);
      if (written.ok) {
        saga = next;
        version = written.value[0] ?? version;
        continue;
      }
      if (written.error.code !== "conditionFailed") return written;
      // Another driver moved it on: continue from what it recorded. A finished saga's record stays
      // for finishedKeepMs, so a driver that lost the race still learns how it ended.
      const current = await this.meta.read<SagaRecord>(`sagas/${saga.id}`);
      if (!current.ok) return current;
      if (current.value === undefined) return { ok: false, error: { code: "unavailable", detail: `move ${saga.id} was finished by another router long ago; read the groups to see its outcome` } };
      saga = current.value.value.saga;
      version = current.value.version;
    }
    if (saga.phase === "done") logEvent("info", "moveFinished", { ...fields, records: saga.copied });
    else logEvent("info", "moveRolledBack", { ...fields, reason: saga.reason ?? "refused" });
    return { ok: true, value: saga };
  }

  /** Carries out one action; an error means "try again later", never "refused". */
  private async carry(action: MoveAction): Promise<ClusterResult<MoveOutcome>> {
    switch (action.kind) {
      case "propose":
        return this.propose(action.group, { type: "range", change: action.change });
      case "copy":
        return this.copy(action);
      case "route":
        return this.route(action.table, action.span, action.to);
      case "finished":
        throw new Error("a finished saga has no action");
    }
  }

  private async propose(group: string, operation: Parameters<GroupIo["write"]>[1]): Promise<ClusterResult<MoveOutcome>> {
    const record = await this.record(group);
    if (!record.ok) return record.error.code === "groupNotFound" ? { ok: true, value: { kind: "refused", reason: `group ${group} does not exist` } } : record;
    const result = await this.io.write(record.value, operation);
    if (!result.ok) return { ok: false, error: "error" in result ? result.error : { code: "unavailable", detail: `group ${group} is not serving` } };
    const applied = result.value;
    if (applied.ok) return { ok: true, value: { kind: "applied" } };
    if (applied.code === "rangeRefused") return { ok: true, value: { kind: "refused", reason: applied.reason } };
    return { ok: false, error: { code: "unavailable", detail: `group ${group} answered ${applied.code}` } };
  }

  private async copy(action: Extract<MoveAction, { kind: "copy" }>): Promise<ClusterResult<MoveOutcome>> {
    const source = await this.record(action.from);
    if (!source.ok) return source;
    const body = { epoch: source.value.epoch, saga: action.saga, span: action.span, ...(action.cursor === undefined ? {} : { cursor: action.cursor }) };
    const outcome = await this.caller.call<ExportAnswer>(source.value, "/internal/export", body, false);
    if (outcome.kind !== "answer") return { ok: false, error: { code: "unavailable", detail: `exporting from ${action.from}: ${"detail" in outcome ? outcome.detail : outcome.kind}` } };
    const page = outcome.answer;
    if (page.kind === "notFrozen") return { ok: true, value: { kind: "refused", reason: `the span is not frozen in ${action.from}` } };
    const records: InstalledRecord[] = page.records.map((record) => ({ key: record.key, version: record.version, value: decodeBase64(record.valueBase64) ?? new Uint8Array() }));
    const change = { action: "install" as const, saga: action.saga, span: action.span, records, sessions: page.sessions, versionFloor: page.versionFloor, ...(page.txn === undefined ? {} : { txn: page.txn }) };
    const installed = await this.propose(action.to, { type: "range", change });
    if (!installed.ok || installed.value.kind === "refused") return installed;
    return { ok: true, value: page.cursor === undefined ? { kind: "copied", records: records.length } : { kind: "copied", records: records.length, cursor: page.cursor } };
  }

  /** The route step, in the order move-saga.ts argues for: table, then the target's ownership, then a write even when unchanged. */
  private async route(record: string, span: MoveSaga["span"], to: string): Promise<ClusterResult<MoveOutcome>> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.meta.read<RangeTable>(record);
      if (!current.ok) return current;
      if (current.value === undefined) return { ok: false, error: { code: "unavailable", detail: "the range table is missing" } };
      const served = await this.served(to);
      if (!served.ok) return served;
      const table = routedTable(current.value.value, span, to, served.value);
      // Written also when unchanged: the version it moves fences every route step that read the table before.
      const written = await this.meta.apply([Metadata.put(record, table, current.value.version)]);
      if (written.ok) return this.routed();
      if (written.error.code !== "conditionFailed") return written;
    }
    return { ok: false, error: { code: "unavailable", detail: "the range table kept changing" } };
  }

  /** The spans `group` serves, read linearizably in the group; none for a group removed or being removed (it moved its ranges away first). */
  private async served(group: string): Promise<ClusterResult<readonly Span[]>> {
    const record = await this.record(group);
    if (!record.ok) return record.error.code === "groupNotFound" ? { ok: true, value: [] } : record;
    if (record.value.state === "deleting" || record.value.state === "removed") return { ok: true, value: [] };
    const outcome = await this.caller.call<RangesAnswer>(record.value, "/internal/ranges", { epoch: record.value.epoch }, false);
    if (outcome.kind === "answer" && outcome.answer.kind === "ok" && "spans" in outcome.answer) return { ok: true, value: outcome.answer.spans ?? [] };
    const detail = outcome.kind === "answer" ? `answered ${outcome.answer.kind}` : "detail" in outcome ? outcome.detail : outcome.kind;
    return { ok: false, error: { code: "unavailable", detail: `reading what ${group} serves: ${detail}` } };
  }

  private routed(): ClusterResult<MoveOutcome> {
    this.tableChanged();
    return { ok: true, value: { kind: "routed" } };
  }
}
