/**
 * Groups and routing from the router's side: the create-group saga, deletion, tenant groups on
 * first use, and the isolate-local caches of group records and the routing table (refreshed when
 * a replica answers "stale epoch" and at most every few seconds otherwise).
 */
import { conflictsWith, defaultGroup, routeKey, withEntry, withoutGroup, type RouteEntry, type RoutingTable } from "../../multiraft/routing.ts";
import type { Ownership } from "../../multiraft/protocol.ts";
import type { ClusterError, ClusterResult, GroupSpec, Keyspace } from "../cluster.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** How long cached metadata is trusted before it is read again, in milliseconds. */
const cacheTtlMs = 5_000;

/** Group lifecycle and key-to-group resolution. */
export class Groups {
  private readonly meta: Metadata;
  private readonly caller: ReplicaCaller;
  private readonly records = new Map<string, { record: GroupRecord; readAtMs: number }>();
  private table: { table: RoutingTable; readAtMs: number } | undefined;

  constructor(meta: Metadata, caller: ReplicaCaller) {
    this.meta = meta;
    this.caller = caller;
  }

  /** The group that owns `key` in `keyspace`, creating a tenant's group on first use. */
  async resolve(keyspace: Keyspace, key: string): Promise<ClusterResult<GroupRecord>> {
    if (keyspace.kind === "tenant") return this.tenantGroup(keyspace.tenant);
    const table = await this.routing();
    if (!table.ok) return table;
    return this.active(routeKey(table.value, key));
  }

  /** Every group a shared-keyspace scan must visit. */
  async scanTargets(keyspace: Keyspace): Promise<ClusterResult<GroupRecord[]>> {
    if (keyspace.kind === "tenant") {
      const group = await this.tenantGroup(keyspace.tenant);
      return group.ok ? { ok: true, value: [group.value] } : group;
    }
    const table = await this.routing();
    if (!table.ok) return table;
    const names = [defaultGroup, ...new Set(table.value.entries.map((entry) => entry.group))];
    const records: GroupRecord[] = [];
    for (const name of names) {
      const record = await this.active(name);
      if (!record.ok) return record;
      records.push(record.value);
    }
    return { ok: true, value: records };
  }

  /** Forgets cached metadata (a replica said our view is stale). */
  invalidate(): void {
    this.records.clear();
    this.table = undefined;
  }

  /** Creates a group (the saga: record "creating", bootstrap replicas, route and mark "active"). */
  async create(spec: GroupSpec | { name: string; owns: Ownership; replicas?: number; locations?: readonly string[] }): Promise<ClusterResult<GroupRecord>> {
    const replicas = this.meta.placement(spec.replicas ?? 3, spec.locations);
    const record: GroupRecord = { name: spec.name, state: "creating", owns: spec.owns, replicas, epoch: 1 };
    const created = await this.meta.apply([Metadata.put(`groups/${spec.name}`, record, 0)]);
    if (!created.ok) {
      if (created.error.code !== "conditionFailed") return created;
      const existing = await this.meta.read<GroupRecord>(`groups/${spec.name}`);
      if (!existing.ok) return existing;
      if (existing.value?.value.state !== "creating") return { ok: false, error: { code: "groupExists" } };
      return this.finish(existing.value.value);
    }
    return this.finish(record);
  }

  /** Removes a group: unroute it, retire its replicas, delete its record. */
  async remove(name: string): Promise<ClusterResult<{ deleted: true }>> {
    const current = await this.meta.read<GroupRecord>(`groups/${name}`);
    if (!current.ok) return current;
    if (current.value === undefined) return { ok: false, error: { code: "groupNotFound" } };
    const table = await this.meta.routing();
    if (!table.ok) return table;
    const deleting = { ...current.value.value, state: "deleting" as const };
    const steps = [Metadata.put(`groups/${name}`, deleting, current.value.version)];
    if (table.value.value.entries.some((entry) => entry.group === name)) {
      steps.push(Metadata.put("routing", withoutGroup(table.value.value, name), table.value.version));
    }
    const marked = await this.meta.apply(steps);
    if (!marked.ok) return marked;
    this.invalidate();
    await Promise.all(deleting.replicas.map((replica) => this.caller.direct(deleting, replica.id, "/internal/retire", {})));
    const removed = await this.meta.apply([{ type: "delete", key: `groups/${name}` }]);
    return removed.ok ? { ok: true, value: { deleted: true } } : removed;
  }

  /** Every group record. */
  list(): Promise<ClusterResult<GroupRecord[]>> {
    return this.meta.list<GroupRecord>("groups/");
  }

  /** One group record (any state), or groupNotFound. */
  async get(name: string): Promise<ClusterResult<GroupRecord>> {
    const result = await this.meta.read<GroupRecord>(`groups/${name}`);
    if (!result.ok) return result;
    return result.value === undefined ? { ok: false, error: { code: "groupNotFound" } } : { ok: true, value: result.value.value };
  }

  /** The default group, created on first use of the cluster. */
  ensureDefault(): Promise<ClusterResult<GroupRecord>> {
    return this.active(defaultGroup);
  }

  private async finish(record: GroupRecord): Promise<ClusterResult<GroupRecord>> {
    await this.meta.bootstrapGroup(record);
    const active: GroupRecord = { ...record, state: "active" };
    const entry = routeEntryOf(record);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.meta.read<GroupRecord>(`groups/${record.name}`);
      if (!current.ok) return current;
      if (current.value === undefined) return { ok: false, error: { code: "groupNotFound" } };
      if (current.value.value.state === "active") return { ok: true, value: current.value.value };
      const steps = [Metadata.put(`groups/${record.name}`, active, current.value.version)];
      if (entry !== undefined) {
        const table = await this.meta.routing();
        if (!table.ok) return table;
        const conflict = conflictsWith(table.value.value, entry);
        if (conflict !== undefined && conflict.group !== record.name) return badRequest(`the keys overlap group ${conflict.group}`);
        if (conflict === undefined) steps.push(Metadata.put("routing", withEntry(table.value.value, entry), table.value.version));
      }
      const applied = await this.meta.apply(steps);
      if (applied.ok) {
        this.invalidate();
        return { ok: true, value: active };
      }
      if (applied.error.code !== "conditionFailed") return applied;
    }
    return { ok: false, error: { code: "unavailable", detail: "the routing table kept changing; try again" } };
  }

  private async tenantGroup(tenant: string): Promise<ClusterResult<GroupRecord>> {
    const name = `tenant-${tenant}`;
    const cached = this.fresh(name);
    if (cached !== undefined) return { ok: true, value: cached };
    const found = await this.get(name);
    if (found.ok && found.value.state === "active") return this.remember(found.value);
    if (!found.ok && found.error.code !== "groupNotFound") return found;
    const created = await this.create({ name, owns: { tenant } });
    return created.ok ? this.remember(created.value) : created;
  }

  private async active(name: string): Promise<ClusterResult<GroupRecord>> {
    const cached = this.fresh(name);
    if (cached !== undefined) return { ok: true, value: cached };
    const found = await this.get(name);
    if (found.ok && found.value.state === "active") return this.remember(found.value);
    if (name === defaultGroup && (!found.ok ? found.error.code === "groupNotFound" : found.value.state === "creating")) {
      const created = await this.create({ name, owns: { default: true } });
      if (created.ok) return this.remember(created.value);
      if (created.error.code !== "groupExists") return created;
      return this.active(name);
    }
    if (found.ok) return { ok: false, error: { code: "unavailable", detail: `group ${name} is ${found.value.state}` } };
    return found;
  }

  private async routing(): Promise<ClusterResult<RoutingTable>> {
    if (this.table !== undefined && Date.now() - this.table.readAtMs < cacheTtlMs) return { ok: true, value: this.table.table };
    const result = await this.meta.routing();
    if (!result.ok) return result;
    this.table = { table: result.value.value, readAtMs: Date.now() };
    return { ok: true, value: result.value.value };
  }

  private fresh(name: string): GroupRecord | undefined {
    const cached = this.records.get(name);
    return cached !== undefined && Date.now() - cached.readAtMs < cacheTtlMs ? cached.record : undefined;
  }

  private remember(record: GroupRecord): ClusterResult<GroupRecord> {
    this.records.set(record.name, { record, readAtMs: Date.now() });
    return { ok: true, value: record };
  }
}

function routeEntryOf(record: GroupRecord): RouteEntry | undefined {
  if ("prefix" in record.owns) return { kind: "prefix", prefix: record.owns.prefix, group: record.name };
  if ("start" in record.owns) {
    const entry = { kind: "range" as const, start: record.owns.start, group: record.name };
    return record.owns.end === undefined ? entry : { ...entry, end: record.owns.end };
  }
  return undefined;
}

function badRequest(detail: string): { ok: false; error: ClusterError } {
  return { ok: false, error: { code: "badRequest", detail } };
}
