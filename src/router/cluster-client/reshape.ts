/**
 * Reshaping the shared keyspace live: split a group, merge two adjacent groups, move a range to
 * another group, create a prefix or range group over keys that already exist, and remove a group
 * without losing its keys. Each is one or more move sagas (MoveDriver), one span at a time, so
 * every step is recorded in the metadata group and resumable.
 */
import { prefixSpan, spanIntersection, spanOf, type Span } from "../../kv/span.ts";
import { adjacent, entriesWithin, spansOf, type RangeTable } from "../../multiraft/keyspace.ts";
import { startMove } from "../../multiraft/move-saga.ts";
import { defaultGroup } from "../../multiraft/routing.ts";
import type { ClusterResult, GroupSpec, RangeMoveReport } from "../cluster.ts";
import { logEvent } from "../log.ts";
import type { Groups } from "./groups.ts";
import type { GroupRecord } from "./metadata.ts";
import type { MoveDriver } from "./move-driver.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** What a range move did: the span, where it went, and how many records travelled. */
export type MoveReport = RangeMoveReport;

/** Split, merge, move, create-over-keys and remove, as sagas. */
export class Reshape {
  private readonly groups: Groups;
  private readonly driver: MoveDriver;
  private readonly caller: ReplicaCaller;

  constructor(groups: Groups, driver: MoveDriver, caller: ReplicaCaller) {
    this.groups = groups;
    this.driver = driver;
    this.caller = caller;
  }

  /** Moves every part of `span` that another group owns to `to`; the moves, in key order. */
  async move(span: Span, to: string): Promise<ClusterResult<MoveReport[]>> {
    // Finish every recorded move first, however recent: one committed in the groups but not yet in
    // the table would make this plan from a stale table (and its first step be refused).
    await this.driver.resumeStale(true);
    const target = await this.groups.activeGroup(to);
    if (!target.ok) return target;
    if (target.value.owns !== undefined && "tenant" in target.value.owns) return badRequest(`group ${to} holds a tenant's keyspace, not part of the shared one`);
    const table = await this.groups.keyspace(true);
    if (!table.ok) return table;
    const reports: MoveReport[] = [];
    for (const entry of entriesWithin(table.value, span)) {
      if (entry.group === to) continue;
      const piece = spanOf(entry.start, entry.end);
      const result = await this.driver.run(startMove(sagaId(), piece, entry.group, to));
      if (!result.ok) return result;
      if (result.value.phase !== "done") return { ok: false, error: { code: "unavailable", detail: `moving ${describe(piece)} from ${entry.group} rolled back: ${result.value.reason ?? "refused"}` } };
      reports.push({ ...piece, to, moved: result.value.copied });
    }
    this.groups.invalidate();
    return { ok: true, value: reports };
  }

  /** Creates a prefix or range group and moves its keys into it from whichever groups hold them. */
  async create(spec: GroupSpec): Promise<ClusterResult<GroupRecord>> {
    const created = await this.groups.create(spec);
    if (!created.ok) return created;
    const moved = await this.move(spanOfOwnership(spec.owns), spec.name);
    return moved.ok ? this.groups.get(spec.name) : moved;
  }

  /**
   * Splits `name` at `at` (default: its median key): a new group `newName` takes every span of
   * `name` at or after `at`. Fresh replicas, placed like any new group.
   */
  async split(name: string, options: { at?: string; newName: string; replicas?: number; auto?: boolean }): Promise<ClusterResult<GroupRecord>> {
    const source = await this.groups.activeGroup(name);
    if (!source.ok) return source;
    const repeated = await this.repeatedSplit(name, options);
    if (repeated !== undefined) return repeated;
    const table = await this.groups.keyspace(true);
    if (!table.ok) return table;
    const spans = spansOf(table.value, name);
    if (spans.length === 0) return badRequest(`group ${name} owns no range of the shared keyspace`);
    const at = options.at ?? (await this.median(source.value));
    if (at === undefined) return badRequest(`group ${name} holds fewer than two keys; give "at" to split it`);
    const upper = spans.flatMap((span) => spanIntersection(span, { start: at }) ?? []);
    const lower = spans.flatMap((span) => spanIntersection(span, spanOf("", at)) ?? []);
    if (upper.length === 0 || lower.length === 0) return badRequest(`"${at}" does not cut group ${name}'s ranges in two`);
    const fields = { group: name, newGroup: options.newName, splitAt: at, ...(options.auto === true ? { auto: true } : {}) };
    logEvent("info", "splitStarted", fields);
    // As many replicas as the source, not counting one a membership change is adding.
    const replicas = options.replicas ?? this.groups.replicasAllowed(source.value.replicas.length - (source.value.replicaChange?.add === undefined ? 0 : 1));
    const created = await this.groups.create({ name: options.newName, owns: { start: at }, replicas, auto: options.auto === true });
    if (!created.ok) return failed("splitFailed", fields, created);
    for (const span of upper) {
      const moved = await this.move(span, options.newName);
      if (!moved.ok) return failed("splitFailed", fields, moved);
    }
    logEvent("info", "splitFinished", fields);
    return this.groups.get(options.newName);
  }

  /**
   * A split asked for again (its answer was lost, say): when `newName` already exists as a split
   * of `name` at the same key, finish moving what is left of `name` from that key on and answer it.
   */
  private async repeatedSplit(name: string, options: { at?: string; newName: string }): Promise<ClusterResult<GroupRecord> | undefined> {
    if (options.at === undefined) return undefined;
    const existing = await this.groups.get(options.newName);
    if (!existing.ok || !("start" in existing.value.owns) || existing.value.owns.start !== options.at || existing.value.owns.end !== undefined) return undefined;
    if (existing.value.state === "creating") {
      // The first attempt died while creating the group: finish its create saga.
      const finished = await this.groups.create({ name: options.newName, owns: existing.value.owns, replicas: this.groups.replicasAllowed(existing.value.replicas.length) });
      if (!finished.ok && finished.error.code !== "groupExists") return finished;
    }
    await this.driver.resumeStale(true);
    const table = await this.groups.keyspace(true);
    if (!table.ok) return table;
    for (const span of spansOf(table.value, name).flatMap((owned) => spanIntersection(owned, { start: options.at! }) ?? [])) {
      const moved = await this.move(span, options.newName);
      if (!moved.ok) return moved;
    }
    return this.groups.get(options.newName);
  }

  /** `name` absorbs `other`, which must own a range adjacent to one of `name`'s; `other` is then removed. */
  async merge(name: string, other: string): Promise<ClusterResult<GroupRecord>> {
    if (name === other) return badRequest("a group cannot merge with itself");
    if (other === defaultGroup) return badRequest("the default group cannot be absorbed; merge it the other way round");
    const table = await this.groups.keyspace(true);
    if (!table.ok) return table;
    const into = await this.groups.activeGroup(name);
    if (!into.ok) return into;
    const absorbed = await this.groups.get(other);
    if (absorbed.ok && absorbed.value.state === "deleting" && (await this.removalMayFinish(absorbed.value, table.value))) {
      // A merge asked for again after the first attempt moved every range and died while removing
      // `other` (its answer lost with it): finish the removal, so the group is not left deleting.
      // Another remover (the balancer's resume step) may finish it first: then it is gone all the same.
      const removed = await this.groups.remove(other);
      if (!removed.ok && removed.error.code !== "groupNotFound") return failed("mergeFailed", { group: name, with: other }, removed);
      return this.groups.activeGroup(name);
    }
    for (const group of [name, other]) {
      const record = await this.groups.activeGroup(group);
      if (!record.ok) return record;
    }
    if (!adjacent(table.value, name, other)) return badRequest(`groups ${name} and ${other} own no adjacent ranges`);
    const fields = { group: name, with: other };
    logEvent("info", "mergeStarted", fields);
    for (const span of spansOf(table.value, other)) {
      const moved = await this.move(span, name);
      if (!moved.ok) return failed("mergeFailed", fields, moved);
    }
    const removed = await this.groups.remove(other);
    if (!removed.ok) return failed("mergeFailed", fields, removed);
    logEvent("info", "mergeFinished", fields);
    return this.groups.get(name);
  }

  /**
   * Resumes every range move left unfinished (a crashed driver's), whatever its age, then finishes
   * removing every group of the shared keyspace left deleting with nothing to serve (see
   * removalMayFinish): a removal that died half-way would otherwise stay deleting for good.
   */
  async resume(): Promise<void> {
    await this.driver.resumeStale(true);
    const records = await this.groups.list();
    if (!records.ok) return;
    const deleting = records.value.filter((record) => record.state === "deleting");
    if (deleting.length === 0) return;
    const table = await this.groups.keyspace(true);
    if (!table.ok) return;
    for (const record of deleting) {
      if (!(await this.removalMayFinish(record, table.value))) continue; // left to an operator (DELETE again)
      const removed = await this.groups.remove(record.name);
      if (removed.ok) logEvent("info", "removalFinished", { group: record.name });
    }
  }

  /**
   * Whether the removal of a group left deleting may be finished (its replicas retired, a tombstone
   * written) without an operator asking again: only a group of the shared keyspace (a tenant's
   * groups are marked deleting with their data in them, and an operator's DELETE decides), named
   * by no span of the range table, and that serves nothing, as the group itself says (a move into
   * it may have finished while it was being marked) or whose replicas are already retired.
   */
  private async removalMayFinish(record: GroupRecord, table: RangeTable): Promise<boolean> {
    if ("tenant" in record.owns || spansOf(table, record.name).length > 0) return false;
    const outcome = await this.caller.call<{ kind: string; spans?: Span[] | null }>(record, "/internal/ranges", { epoch: record.epoch }, false);
    if (outcome.kind === "staleEpoch") return true; // retired: the first removal got that far
    return outcome.kind === "answer" && outcome.answer.kind === "ok" && Array.isArray(outcome.answer.spans) && outcome.answer.spans.length === 0;
  }

  /** Removes a group; a group of the shared keyspace first hands its ranges to the default group, so no key is lost. */
  async remove(name: string): Promise<ClusterResult<{ deleted: true }>> {
    const record = await this.groups.get(name);
    if (!record.ok) return record;
    const owns = record.value.owns;
    if ("tenant" in owns && record.value.hashed === true) {
      // One group of a hashed tenant keyspace: its slots would be served by nobody (the keys in them lost).
      const table = await this.groups.tenantTable(owns.tenant, true);
      if (!table.ok) return table;
      if (table.value !== undefined && spansOf(table.value, name).length > 0) {
        return { ok: false, error: { code: "groupProtected", detail: `group ${name} holds hash slots of tenant ${owns.tenant}'s keyspace, which no other group serves; it cannot be removed` } };
      }
    }
    if (!("tenant" in record.value.owns) && record.value.state === "active") {
      const table = await this.groups.keyspace(true);
      if (!table.ok) return table;
      for (const span of spansOf(table.value, name)) {
        const moved = await this.move(span, defaultGroup);
        if (!moved.ok) return moved;
      }
    }
    return this.groups.remove(name);
  }

  private async median(record: GroupRecord): Promise<string | undefined> {
    const outcome = await this.caller.call<{ kind: string; key?: string }>(record, "/internal/median", { epoch: record.epoch }, false);
    return outcome.kind === "answer" && outcome.answer.kind === "ok" ? outcome.answer.key : undefined;
  }
}

/** The span a new group is created for. */
export function spanOfOwnership(owns: GroupSpec["owns"]): Span {
  return "prefix" in owns ? prefixSpan(owns.prefix) : spanOf(owns.start, owns.end);
}

function sagaId(): string {
  return `move-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

function describe(span: Span): string {
  return `[${JSON.stringify(span.start)}, ${span.end === undefined ? "end" : JSON.stringify(span.end)})`;
}

/** Logs that a split or merge stopped (its moves so far stand; a rolled-back move is logged by the driver) and passes the failure on. */
function failed<T extends { ok: false }>(event: "splitFailed" | "mergeFailed", fields: Record<string, unknown>, failure: T): T {
  logEvent("warn", event, { ...fields, error: "error" in failure ? failure.error : undefined });
  return failure;
}

function badRequest(detail: string): { ok: false; error: { code: "badRequest"; detail: string } } {
  return { ok: false, error: { code: "badRequest", detail } };
}
