/**
 * The Cluster the HTTP layer talks to, over any ReplicaDirectory: keys resolved to groups,
 * leaders found and followed, retries with sessions, stale routing refreshed, scans merged across
 * groups, tenant tokens stored hashed in the metadata group.
 */
import { encodeBase64 } from "../../shared/base64.ts";
import { compareKeys, keySuccessor } from "../../kv/key-order.ts";
import type { Operation } from "../../kv/command.ts";
import type { KvEntry } from "../../kv/store.ts";
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
  ScanResult,
  VersionedValue,
  WriteCondition,
  WriteOutcome,
} from "../cluster.ts";
import type { ReplicaDirectory } from "./directory.ts";
import { ReplicaCaller, type RetryPolicy } from "./replica-caller.ts";
import { SessionPool } from "./session-pool.ts";
import { applyError, GroupIo, type GroupResult } from "./group-io.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import { Groups } from "./groups.ts";
import { groupHealth } from "./health.ts";

/** Settings of a cluster client. */
export interface ClusterClientOptions {
  directory: ReplicaDirectory;
  /** locationHints for the replicas of new groups, in order. */
  locations: string[];
  retry?: RetryPolicy;
}

/** A Cluster over replicas reached through a ReplicaDirectory. */
export class ClusterClient implements Cluster {
  readonly caller: ReplicaCaller;
  readonly groups: Groups;
  private readonly io: GroupIo;
  private readonly meta: Metadata;
  private readonly tokens = new Map<string, string>();

  constructor(options: ClusterClientOptions) {
    this.caller = new ReplicaCaller(options.directory, options.retry);
    this.io = new GroupIo(this.caller, new SessionPool());
    this.meta = new Metadata(this.io, this.caller, options.locations);
    this.groups = new Groups(this.meta, this.caller);
  }

  async get(keyspace: Keyspace, key: string, consistency: Consistency): Promise<ClusterResult<VersionedValue & { group: string }>> {
    const result = await this.routed(keyspace, key, (group) => this.io.get(group, key, consistency));
    if (!result.ok) return result;
    const { record, value } = result.value;
    if (!value.found) return { ok: false, error: { code: "notFound" } };
    return { ok: true, value: { value: value.value!, version: value.version!, group: record.name } };
  }

  put(keyspace: Keyspace, key: string, value: Uint8Array, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome>> {
    const operation: Operation = condition === undefined ? { type: "put", key, value } : { type: "put", key, value, condition };
    return this.write(keyspace, key, operation);
  }

  async delete(keyspace: Keyspace, key: string, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome & { deleted: boolean }>> {
    const operation: Operation = condition === undefined ? { type: "delete", key } : { type: "delete", key, condition };
    const result = await this.routed(keyspace, key, (group) => this.io.write(group, operation));
    if (!result.ok) return result;
    const applied = result.value.value;
    const error = applyError(applied);
    if (error !== undefined) return { ok: false, error };
    const deleted = applied.ok && applied.type === "delete" ? applied.deleted : false;
    return { ok: true, value: { key, version: applied.ok && "version" in applied ? applied.version : 0, group: result.value.record.name, deleted } };
  }

  async scan(
    keyspace: Keyspace,
    request: { prefix?: string; start?: string; end?: string; limit: number; cursor?: string },
    consistency: Consistency,
  ): Promise<ClusterResult<ScanResult>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const targets = await this.groups.scanTargets(keyspace);
      if (!targets.ok) return targets;
      const pages = await Promise.all(targets.value.map((group) => this.io.scan(group, request, consistency)));
      const stale = pages.some((page) => !page.ok && "stale" in page);
      if (stale) {
        this.groups.invalidate();
        continue;
      }
      const entries: KvEntry[] = [];
      for (const page of pages) {
        if (!page.ok) return { ok: false, error: "error" in page ? page.error : { code: "unavailable", detail: "stale" } };
        entries.push(...page.value.entries);
      }
      entries.sort((a, b) => compareKeys(a.key, b.key));
      const more = entries.length > request.limit || pages.some((page) => page.ok && page.value.cursor !== undefined);
      const kept = entries.slice(0, request.limit);
      const last = kept[kept.length - 1];
      return { ok: true, value: more && last !== undefined ? { entries: kept, cursor: keySuccessor(last.key) } : { entries: kept } };
    }
    return { ok: false, error: { code: "unavailable", detail: "routing kept changing during the scan" } };
  }

  async batch(keyspace: Keyspace, operations: readonly BatchRequestOperation[]): Promise<ClusterResult<BatchResultItem[]>> {
    const results = await Promise.all(operations.map((operation) => this.batchItem(keyspace, operation)));
    return { ok: true, value: results };
  }

  async listGroups(): Promise<ClusterResult<GroupView[]>> {
    await this.groups.ensureDefault();
    const records = await this.groups.list();
    return records.ok ? { ok: true, value: records.value.map(viewOf) } : records;
  }

  async createGroup(spec: GroupSpec): Promise<ClusterResult<GroupView>> {
    await this.groups.ensureDefault();
    const occupied = await this.occupied(spec.owns);
    if (occupied !== undefined) return { ok: false, error: { code: "badRequest", detail: occupied } };
    const created = await this.groups.create(spec);
    return created.ok ? { ok: true, value: viewOf(created.value) } : created;
  }

  async getGroup(name: string): Promise<ClusterResult<GroupView & { health: GroupHealth }>> {
    const record = await this.groups.get(name);
    if (!record.ok) return record;
    return { ok: true, value: { ...viewOf(record.value), health: await groupHealth(this.caller, record.value) } };
  }

  deleteGroup(name: string): Promise<ClusterResult<{ deleted: true }>> {
    return this.groups.remove(name);
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

  private async write(keyspace: Keyspace, key: string, operation: Operation): Promise<ClusterResult<WriteOutcome>> {
    const result = await this.routed(keyspace, key, (group) => this.io.write(group, operation));
    if (!result.ok) return result;
    const applied = result.value.value;
    const error = applyError(applied);
    if (error !== undefined) return { ok: false, error };
    return { ok: true, value: { key, version: applied.ok && "version" in applied ? applied.version : 0, group: result.value.record.name } };
  }

  /** Resolves the key's group and runs `work` there, re-resolving when the group says our view is stale. */
  private async routed<T>(keyspace: Keyspace, key: string, work: (group: GroupRecord) => Promise<GroupResult<T>>): Promise<ClusterResult<{ record: GroupRecord; value: T }>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const group = await this.groups.resolve(keyspace, key);
      if (!group.ok) return group;
      const result = await work(group.value);
      if (result.ok) return { ok: true, value: { record: group.value, value: result.value } };
      if ("error" in result) return { ok: false, error: result.error };
      this.groups.invalidate();
    }
    return { ok: false, error: { code: "unavailable", detail: "routing kept changing" } };
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

  /** Why a new group cannot take `owns`: its keys already hold data elsewhere. */
  private async occupied(owns: GroupSpec["owns"]): Promise<string | undefined> {
    const range = "prefix" in owns ? { prefix: owns.prefix } : { start: owns.start, ...(owns.end === undefined ? {} : { end: owns.end }) };
    const page = await this.scan({ kind: "shared" }, { ...range, limit: 1 }, "linearizable");
    if (page.ok && page.value.entries.length > 0) {
      return `keys in that range already exist (for example "${page.value.entries[0]!.key}"); moving them needs a split`;
    }
    return undefined;
  }
}

function viewOf(record: GroupRecord): GroupView {
  return { name: record.name, state: record.state, owns: record.owns, replicas: record.replicas, epoch: record.epoch };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
