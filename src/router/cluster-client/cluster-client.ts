/**
 * The Cluster the HTTP layer talks to, over any ReplicaDirectory: keys resolved to groups,
 * leaders found and followed, retries with sessions, stale routing refreshed, scans merged across
 * groups, tenant tokens stored hashed in the metadata group.
 */
import { encodeBase64 } from "../../shared/base64.ts";
import type { Operation } from "../../kv/command.ts";
import type { ApplyResult } from "../../kv/result.ts";
import type {
  BatchRequestOperation,
  BatchResultItem,
  Cluster,
  ClusterResult,
  Consistency,
  GroupHealth,
  GroupSpec,
  GroupView,
  Keyspace,
  LeaderTransfer,
  ScanResult,
  TxnOutcome,
  TxnRequest,
  VersionedValue,
  WriteCondition,
  WriteOutcome,
} from "../cluster.ts";
import type { GroupDescriptor, ReplicaDirectory } from "./directory.ts";
import { ReplicaCaller, type CallDeadlines, type RetryPolicy } from "./replica-caller.ts";
import { SessionPool } from "./session-pool.ts";
import { applyError, GroupIo, type GroupResult } from "./group-io.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import { Groups } from "./groups.ts";
import { MoveDriver, sagaResumeAfterMs } from "./move-driver.ts";
import { Reshape, type MoveReport } from "./reshape.ts";
import { scanKeyspace } from "./scan.ts";
import { spansOf } from "../../multiraft/keyspace.ts";
import { HashedTenants } from "./hashed-tenants.ts";
import type { MovePhase } from "../../multiraft/move-saga.ts";
import type { Span } from "../../kv/span.ts";
import { groupHealth, inspectGroup, type GroupInspection } from "./health.ts";
import { Replicas, type ReplicaPlacing, type ReplicaToPlace } from "./replicas.ts";
import { TxnDriver, type IntentInfo, type SweptRecord } from "./txn-driver.ts";
import { Leadership } from "./leadership.ts";
import { metaGroup } from "./directory.ts";

/** Settings of a cluster client. */
export interface ClusterClientOptions {
  directory: ReplicaDirectory;
  /** locationHints for the replicas of new groups, in order. */
  locations: string[];
  retry?: RetryPolicy;
  /** How each call to a replica is bounded by its deadline (default: a timer per call, as a Worker needs). */
  deadlines?: CallDeadlines;
  /** Ask the metadata group's leader balancer (/internal/leader-advice) for the best leader of a transfer that names no replica. */
  leaderAdviceFromMeta?: boolean;
  /** GET /v1/groups/{name}'s inspection of a group known without asking its replicas, or undefined to ask them (the Worker reads a quiet group's from its replicas' last reports: no hibernated object starts). */
  quietInspection?: (group: GroupDescriptor) => Promise<GroupInspection | undefined>;
  /** Where a replica's id decides its node (a Deno cluster): the most replicas a new group may have, and the id of one added to a group (by default the API's limit, and the next unused id). */
  placement?: { replicasMax: number; replicaId(replica: ReplicaToPlace): ReplicaPlacing };
}

/** A Cluster over replicas reached through a ReplicaDirectory. */
export class ClusterClient implements Cluster {
  readonly caller: ReplicaCaller;
  readonly groups: Groups;
  private readonly io: GroupIo;
  private readonly meta: Metadata;
  private readonly tokens = new Map<string, string>();

  private readonly driver: MoveDriver;
  private readonly reshape: Reshape;
  private readonly hashedTenants: HashedTenants;
  private readonly replicas: Replicas;
  private readonly txns: TxnDriver;
  private readonly leadership: Leadership;
  private readonly quietInspection: ClusterClientOptions["quietInspection"];
  private quietMovesCheckedAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: ClusterClientOptions) {
    this.caller = new ReplicaCaller(options.directory, options.retry, options.deadlines);
    this.quietInspection = options.quietInspection;
    this.io = new GroupIo(this.caller, new SessionPool());
    this.meta = new Metadata(this.io, this.caller, options.locations);
    this.groups = new Groups(this.meta, this.caller, this.io, options.placement?.replicasMax);
    this.driver = new MoveDriver({ meta: this.meta, io: this.io, caller: this.caller, record: (name) => this.groups.get(name), tableChanged: () => this.groups.invalidate() });
    this.reshape = new Reshape(this.groups, this.driver, this.caller);
    this.hashedTenants = new HashedTenants(this.groups, this.driver, this.meta);
    this.replicas = new Replicas({ groups: this.groups, meta: this.meta, caller: this.caller, locations: options.locations, ...(options.placement === undefined ? {} : { place: (replica) => options.placement!.replicaId(replica) }) });
    this.leadership = new Leadership({ groups: this.groups, caller: this.caller, ...(options.leaderAdviceFromMeta === true ? { advice: (record, leader) => this.leaderAdvice(record, leader) } : {}) });
    this.txns = new TxnDriver({
      resolve: (keyspace, key) => this.groups.resolve(keyspace, key),
      activeGroup: (name) => this.groups.activeGroup(name),
      invalidate: () => this.groups.invalidate(),
      write: (group, operation) => this.io.write(group, operation),
      routedWrite: (keyspace, key, operation) => this.routedWrite(keyspace, key, operation),
      read: async (keyspace, key) => {
        const read = await this.get(keyspace, key, "linearizable");
        if (read.ok) return { ok: true, value: { found: true, value: read.value.value, version: read.value.version } };
        return read.error.code === "notFound" ? { ok: true, value: { found: false, version: 0 } } : read;
      },
      sleep,
    });
  }

  txn(keyspace: Keyspace, request: TxnRequest): Promise<ClusterResult<TxnOutcome>> {
    return this.txns.run(keyspace, request);
  }

  /** The background sweep of one group's intents and transaction records that outlived their deadlines (see TxnDriver.sweep). */
  async sweepTransactions(keyspace: Keyspace, group: string, work: { intents: readonly IntentInfo[]; records: readonly SweptRecord[] }): Promise<void> {
    const record = await this.groups.get(group);
    if (record.ok) await this.txns.sweep(keyspace, record.value, work.intents, work.records);
  }

  async get(keyspace: Keyspace, key: string, consistency: Consistency): Promise<ClusterResult<VersionedValue & { group: string }>> {
    const result = await this.routed(keyspace, key, (group) => this.io.get(group, key, consistency, keyspace.origin));
    if (!result.ok) return result;
    const { record, value } = result.value;
    if (!value.found) return { ok: false, error: { code: "notFound" } };
    return { ok: true, value: { value: value.value!, version: value.version!, group: record.name } };
  }

  put(keyspace: Keyspace, key: string, value: Uint8Array, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome>> {
    const operation: Operation = condition === undefined ? { type: "put", key, value } : { type: "put", key, value, condition };
    return this.write(keyspace, key, operation);
  }

  delete(keyspace: Keyspace, key: string, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome & { deleted: boolean }>> {
    const operation: Operation = condition === undefined ? { type: "delete", key } : { type: "delete", key, condition };
    return this.write(keyspace, key, operation);
  }

  async scan(
    keyspace: Keyspace,
    request: { prefix?: string; start?: string; end?: string; limit: number; cursor?: string },
    consistency: Consistency,
  ): Promise<ClusterResult<ScanResult>> {
    return scanKeyspace(
      { groups: this.groups, io: this.io, waitForMove: (attempt) => this.waitForMove(attempt), settle: (keyspace, group, intents) => this.txns.settle(keyspace, group, intents), sleep },
      keyspace,
      request,
      consistency,
    );
  }

  async batch(keyspace: Keyspace, operations: readonly BatchRequestOperation[]): Promise<ClusterResult<BatchResultItem[]>> {
    const results = await Promise.all(operations.map((operation) => this.batchItem(keyspace, operation)));
    return { ok: true, value: results };
  }

  async listGroups(): Promise<ClusterResult<GroupView[]>> {
    await this.groups.ensureDefault();
    const records = await this.groups.list();
    if (!records.ok) return records;
    const views: GroupView[] = [];
    for (const record of records.value) {
      const view = await this.viewed({ ok: true, value: record }, true);
      if (!view.ok) return view;
      views.push(view.value);
    }
    return { ok: true, value: views };
  }

  async createGroup(spec: GroupSpec): Promise<ClusterResult<GroupView>> {
    await this.groups.ensureDefault();
    return this.viewed(await this.reshape.create(spec));
  }

  async getGroup(name: string): Promise<ClusterResult<GroupView & { health: GroupHealth }>> {
    const record = await this.groups.get(name);
    if (!record.ok) return record;
    const view = await this.viewed(record);
    if (!view.ok) return view;
    const inspection = (await this.quietInspection?.(record.value)) ?? (await inspectGroup(this.caller, record.value));
    return { ok: true, value: { ...view.value, ...inspection } };
  }

  deleteGroup(name: string): Promise<ClusterResult<{ deleted: true }>> {
    return this.reshape.remove(name);
  }

  async splitGroup(name: string, options: { at?: string; newName?: string; auto?: boolean }): Promise<ClusterResult<GroupView>> {
    await this.groups.ensureDefault();
    const newName = options.newName ?? `${name.slice(0, 50)}-${crypto.randomUUID().slice(0, 6)}`;
    return this.viewed(await this.reshape.split(name, { newName, auto: options.auto === true, ...(options.at === undefined ? {} : { at: options.at }) }));
  }

  async createTenantKeyspace(tenant: string, options: { mode: "hash"; groups: number }): Promise<ClusterResult<{ mode: "hash"; groups: GroupView[] }>> {
    const created = await this.hashedTenants.create(tenant, options.groups);
    if (!created.ok) return created;
    const views: GroupView[] = [];
    for (const record of created.value) {
      const view = await this.viewed({ ok: true, value: record });
      if (!view.ok) return view;
      views.push(view.value);
    }
    return { ok: true, value: { mode: "hash", groups: views } };
  }

  async addTenantGroup(tenant: string): Promise<ClusterResult<GroupView>> {
    return this.viewed(await this.hashedTenants.addGroup(tenant));
  }

  async addReplica(name: string, options: { readonly location?: string }): Promise<ClusterResult<GroupView & { replica: number }>> {
    const added = await this.replicas.add(name, options.location);
    return added.ok ? this.viewedWith(added.value.record, { replica: added.value.replica }) : added;
  }

  async removeReplica(name: string, id: number): Promise<ClusterResult<GroupView>> {
    return this.viewed(await this.replicas.remove(name, id));
  }

  async replaceReplica(name: string, id: number, options: { readonly location?: string }): Promise<ClusterResult<GroupView & { replica: number }>> {
    const replaced = await this.replicas.replace(name, id, options.location);
    return replaced.ok ? this.viewedWith(replaced.value.record, { replica: replaced.value.replica }) : replaced;
  }

  private async viewedWith<T extends object>(record: GroupRecord, more: T): Promise<ClusterResult<GroupView & T>> {
    const view = await this.viewed({ ok: true, value: record });
    return view.ok ? { ok: true, value: { ...view.value, ...more } } : view;
  }

  /**
   * Claims the right to act on `group`'s load report taken at ownership `epoch`: true for the first
   * balancer to claim that epoch (compare-and-set on `balance/<group>`), false when one already has.
   */
  async claimBalance(group: string, epoch: number | undefined): Promise<boolean> {
    if (epoch === undefined) return true;
    const current = await this.meta.read<{ epoch: number }>(`balance/${group}`);
    if (!current.ok || (current.value !== undefined && current.value.value.epoch >= epoch)) return false;
    const claimed = await this.meta.apply([Metadata.put(`balance/${group}`, { epoch }, current.value?.version ?? 0)]);
    return claimed.ok;
  }

  /** Fault injection (dev and tests only): the next move to reach `phase` stops there, as if the router driving it died. */
  haltNextMoveBefore(phase: MovePhase): void {
    this.driver.haltBefore = phase;
  }

  /** Fault injection (dev and tests only): the next two-phase transaction stops after `phase`, as if the router driving it died. */
  haltNextTxnAfter(phase: "prepare" | "decide"): void {
    this.txns.haltAfter = phase;
  }

  /** Resumes unfinished moves and finishes removals a crash left half-done (Reshape.resume; the balancer runs this first). */
  resumeOperations(): Promise<void> {
    return this.reshape.resume();
  }

  async mergeGroups(name: string, other: string): Promise<ClusterResult<GroupView>> {
    return this.viewed(await this.reshape.merge(name, other));
  }

  transferLeader(name: string, to?: number): Promise<ClusterResult<LeaderTransfer>> {
    return this.leadership.transfer(name, to);
  }

  /** The metadata group's leader balancer's choice of leader for `record` (undefined when it gives none). */
  private async leaderAdvice(record: GroupRecord, leader: number): Promise<number | undefined> {
    const body = { group: record.name, replicas: record.replicas, leader };
    const outcome = await this.caller.call<{ kind: string; replica?: number }>(metaGroup, "/internal/leader-advice", body, false);
    return outcome.kind === "answer" && outcome.answer.kind === "ok" ? outcome.answer.replica : undefined;
  }

  async moveRange(span: Span, to: string): Promise<ClusterResult<{ moves: MoveReport[] }>> {
    await this.groups.ensureDefault();
    const moved = await this.reshape.move(span, to);
    return moved.ok ? { ok: true, value: { moves: moved.value } } : moved;
  }

  /** The view of a group record, with the ranges its range table (the shared one, or its hashed tenant's) gives it. */
  private async viewed(record: ClusterResult<GroupRecord>, fresh = false): Promise<ClusterResult<GroupView>> {
    if (!record.ok) return record;
    const owns = record.value.owns;
    if ("tenant" in owns && record.value.hashed !== true) return { ok: true, value: viewOf(record.value, [{ start: "" }]) };
    const table = "tenant" in owns ? await this.groups.tenantTable(owns.tenant, fresh) : await this.groups.keyspace(fresh);
    if (!table.ok) return table;
    return { ok: true, value: viewOf(record.value, table.value === undefined ? [] : spansOf(table.value, record.value.name)) };
  }

  /** Resumes quiet unfinished moves, at most once per sagaResumeAfterMs in this isolate. */
  private async finishQuietMoves(): Promise<void> {
    if (Date.now() - this.quietMovesCheckedAtMs < sagaResumeAfterMs) return;
    this.quietMovesCheckedAtMs = Date.now();
    await this.driver.resumeStale();
  }

  /** Waits before retrying a key whose range is moving; every few tries, resumes a saga whose driver went quiet. */
  private async waitForMove(attempt: number): Promise<void> {
    if (attempt > 0 && attempt % 8 === 0) await this.driver.resumeStale();
    await sleep(Math.min(500, 25 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
  }

  async issueTenantToken(tenant: string): Promise<ClusterResult<{ token: string }>> {
    const secret = new Uint8Array(32);
    crypto.getRandomValues(secret);
    const token = `ert_${encodeBase64(secret).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
    const stored = await this.meta.apply([Metadata.put(`tokens/${await sha256Hex(token)}`, { tenant }, 0)]);
    return stored.ok ? { ok: true, value: { token } } : stored;
  }

  async tenantOfToken(token: string): Promise<string | undefined> {
    const hash = await sha256Hex(token);
    const cached = this.tokens.get(hash);
    if (cached !== undefined) return cached;
    const record = await this.meta.read<{ tenant: string }>(`tokens/${hash}`);
    if (!record.ok || record.value === undefined) return undefined;
    this.tokens.set(hash, record.value.value.tenant);
    return record.value.value.tenant;
  }

  async health(): Promise<ClusterResult<{ healthy: boolean; groups: GroupHealth[] }>> {
    const records = await this.groups.list();
    if (!records.ok) return records;
    const groups = await Promise.all(records.value.map((record) => groupHealth(this.caller, record)));
    return { ok: true, value: { healthy: groups.every((group) => group.healthy), groups } };
  }

  /** A put or delete at the key's group; `deleted` says whether a delete found the key. */
  private async write(keyspace: Keyspace, key: string, operation: Operation): Promise<ClusterResult<WriteOutcome & { deleted: boolean }>> {
    const result = await this.routedWrite(keyspace, key, operation, keyspace.origin);
    if (!result.ok) return result;
    const applied = result.value.value;
    const error = applyError(applied);
    if (error !== undefined) return { ok: false, error };
    const deleted = applied.ok && applied.type === "delete" ? applied.deleted : false;
    return { ok: true, value: { key, version: applied.ok && "version" in applied ? applied.version : 0, group: result.value.record.name, deleted } };
  }

  /** Writes `operation` to the key's group (see routed), every attempt under one client session (GroupIo.routedWrite). */
  private routedWrite(keyspace: Keyspace, key: string, operation: Operation, origin?: string): Promise<ClusterResult<{ record: GroupRecord; value: ApplyResult }>> {
    return this.io.routedWrite(operation, origin, (write) => this.routed(keyspace, key, write));
  }

  /**
   * Resolves the key's group and runs `work` there. A group that no longer serves the key sends the
   * request on (to the group it names, else to the refreshed range table); a range that is moving
   * is waited for. Up to moveWaitMs in all, so the caller does not notice a split, merge or move.
   */
  private async routed<T>(keyspace: Keyspace, key: string, work: (group: GroupRecord) => Promise<GroupResult<T>>): Promise<ClusterResult<{ record: GroupRecord; value: T }>> {
    const deadline = Date.now() + moveWaitMs;
    let hint: string | undefined;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const group = hint === undefined ? await this.groups.resolve(keyspace, key) : await this.groups.activeGroup(hint);
      hint = undefined;
      if (!group.ok) {
        if (group.error.code !== "groupNotFound" && group.error.code !== "unavailable") return group;
        await this.waitForMove(attempt);
        continue;
      }
      const result = await work(group.value);
      if (result.ok) return { ok: true, value: { record: group.value, value: result.value } };
      if ("error" in result) return { ok: false, error: result.error };
      if ("intents" in result) {
        // Keys held by transactions: resolve the decided ones (pushing records past their deadline), else wait a little.
        if (!(await this.txns.settle(keyspace, group.value, result.intents))) await sleep(Math.min(100, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
        continue;
      }
      this.groups.invalidate();
      if ("stale" in result && result.movedTo !== undefined && result.movedTo !== group.value.name) {
        hint = result.movedTo;
        await this.finishQuietMoves(); // the table is behind the groups: a move's driver may have died before its last step
      } else await this.waitForMove(attempt);
    }
    return { ok: false, error: { code: "unavailable", detail: "the key's range kept moving; try again" } };
  }

  private async batchItem(keyspace: Keyspace, operation: BatchRequestOperation): Promise<BatchResultItem> {
    const key = operation.key;
    if (operation.op === "get") {
      const result = await this.get(keyspace, key, "linearizable");
      if (result.ok) return { ok: true, key, group: result.value.group, version: result.value.version, value: result.value.value, found: true };
      if (result.error.code === "notFound") return { ok: true, key, group: "", version: 0, found: false };
      return { ok: false, key, error: result.error };
    }
    const result = operation.op === "put" ? await this.put(keyspace, key, operation.value, operation.condition) : await this.delete(keyspace, key, operation.condition);
    return result.ok ? { ok: true, key, group: result.value.group, version: result.value.version } : { ok: false, key, error: result.error };
  }
}

/** How long a request waits for a moving range before answering unavailable, in milliseconds. */
const moveWaitMs = 10_000;

function viewOf(record: GroupRecord, ranges: readonly Span[]): GroupView {
  const state = record.state === "removed" ? "deleting" : record.state; // tombstones are never listed; a removed record read mid-removal shows as deleting
  const view = { name: record.name, state, owns: record.owns, replicas: record.replicas, epoch: record.epoch, ranges };
  const change = record.replicaChange === undefined ? {} : { replicaChange: record.replicaChange };
  return { ...view, ...(record.auto === true ? { auto: true as const } : {}), ...(record.hashed === true ? { hashed: true as const } : {}), ...change };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
