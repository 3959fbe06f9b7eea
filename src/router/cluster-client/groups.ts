/**
 * Groups and routing from the router's side: the create-group saga, deletion, tenant groups on
 * first use, and the isolate-local caches of group records and the routing table (refreshed when
 * a replica answers "stale epoch" and at most every few seconds otherwise).
 */
import { logEvent } from "../log.ts";
import { defaultGroup } from "../../multiraft/routing.ts";
import { fromLegacyRouting, groupsOf, lookupKey, singleGroupTable, spansOf, type RangeTable } from "../../multiraft/keyspace.ts";
import type { Ownership } from "../../multiraft/protocol.ts";
import type { Span } from "../../kv/span.ts";
import type { ClusterResult, GroupSpec, Keyspace } from "../cluster.ts";
import type { GroupIo } from "./group-io.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import type { ReplicaCaller } from "./replica-caller.ts";
import { settleSignal, wakeOrPoll } from "./wake.ts";

/** How long cached metadata is trusted before it is read again, in milliseconds. */
const cacheTtlMs = 5_000;
/** How often a caller waiting for another's load looks for its result without being woken, in milliseconds (its keep-alive: wake.ts). */
const loadPollMs = 100;
/** How long a caller waits for another's load before loading itself, in milliseconds. */
const loadWaitMs = 15_000;
/** The answer of a metadata write that lost its race to other writers five times in a row. */
const tableKeptChanging = { ok: false, error: { code: "unavailable", detail: "the routing table kept changing; try again" } } as const;

/** Group lifecycle and key-to-group resolution. */
export class Groups {
  private readonly meta: Metadata;
  private readonly caller: ReplicaCaller;
  private readonly io: GroupIo;
  private readonly replicasMax: number | undefined;
  private readonly records = new Map<string, { record: GroupRecord; readAtMs: number }>();
  private table: { table: RangeTable; readAtMs: number } | undefined;
  /** Keys being loaded by some caller now, each with a promise that resolves once its load settles. */
  private readonly loading = new Map<string, Promise<void>>();
  /** The last result of each load, for the callers that waited for it. */
  private readonly settled = new Map<string, { value: unknown; atMs: number }>();
  private readonly tenantTables = new Map<string, { table: RangeTable | undefined; readAtMs: number }>();

  /** `replicasMax`: the most replicas a new group may have where replicas run one per node (a Deno cluster); otherwise the API's limit holds. */
  constructor(meta: Metadata, caller: ReplicaCaller, io: GroupIo, replicasMax?: number) {
    this.meta = meta;
    this.caller = caller;
    this.io = io;
    this.replicasMax = replicasMax;
  }

  /** The group that owns `key` in `keyspace`, creating a tenant's group on first use. */
  async resolve(keyspace: Keyspace, key: string): Promise<ClusterResult<GroupRecord>> {
    if (keyspace.kind === "tenant") {
      const hashed = await this.tenantTable(keyspace.tenant);
      if (!hashed.ok) return hashed;
      return hashed.value === undefined ? this.tenantGroup(keyspace.tenant) : this.active(lookupKey(hashed.value, key).group);
    }
    const table = await this.keyspace();
    if (!table.ok) return table;
    return this.active(lookupKey(table.value, key).group);
  }

  /**
   * The range table of a tenant whose keyspace was created hashed over several groups, or undefined
   * for a tenant served by its one group (cached like the shared table).
   */
  async tenantTable(tenant: string, fresh = false): Promise<ClusterResult<RangeTable | undefined>> {
    const cached = this.tenantTables.get(tenant);
    if (!fresh && cached !== undefined && Date.now() - cached.readAtMs < cacheTtlMs) return { ok: true, value: cached.table };
    return this.once(`tenant-table:${tenant}`, async () => {
      const stored = await this.meta.read<RangeTable>(tenantTableRecord(tenant));
      if (!stored.ok) return stored;
      this.tenantTables.set(tenant, { table: stored.value?.value, readAtMs: Date.now() });
      return { ok: true, value: stored.value?.value };
    });
  }

  /** The tenant's group (created on first use). */
  tenant(tenant: string): Promise<ClusterResult<GroupRecord>> {
    return this.tenantGroup(tenant);
  }

  /**
   * The range table of the shared keyspace (cached for a few seconds). The first time, it is made
   * from the routing table of releases before ranges were replicated state, and every group in it
   * is given its spans through its log.
   */
  async keyspace(fresh = false): Promise<ClusterResult<RangeTable>> {
    if (!fresh && this.table !== undefined && Date.now() - this.table.readAtMs < cacheTtlMs) return { ok: true, value: this.table.table };
    return this.once("keyspace", () => this.loadKeyspace());
  }

  private async loadKeyspace(): Promise<ClusterResult<RangeTable>> {
    const stored = await this.meta.read<RangeTable>("keyspace");
    if (!stored.ok) return stored;
    const table = stored.value?.value ?? (await this.migrateKeyspace());
    if (table === undefined) return { ok: false, error: { code: "unavailable", detail: "the range table could not be set up yet" } };
    this.table = { table, readAtMs: Date.now() };
    return { ok: true, value: table };
  }

  /** Forgets cached metadata (a replica said our view is stale). */
  invalidate(): void {
    this.records.clear();
    this.table = undefined;
    this.tenantTables.clear();
  }

  /**
   * How many replicas a group made from one of `count` replicas gets (a split's): `count`, but no
   * more than a new group may have here (a group created before the limit may have more).
   */
  replicasAllowed(count: number): number {
    return Math.min(count, this.replicasMax ?? count);
  }

  /**
   * Creates a group (the saga: record "creating", bootstrap replicas, give it its initial spans
   * through its log, mark "active"). The default group and tenant groups start owning their whole
   * keyspace; every other group starts owning nothing and receives ranges by move sagas.
   */
  async create(
    spec: (GroupSpec | { name: string; owns: Ownership; replicas?: number; locations?: readonly string[] }) & { auto?: boolean; hashSlots?: Span[] },
  ): Promise<ClusterResult<GroupRecord>> {
    const count = spec.replicas ?? 3;
    if (this.replicasMax !== undefined && count > this.replicasMax) return { ok: false, error: { code: "tooManyReplicas", detail: `a group of this cluster has at most ${this.replicasMax} replicas, one per node` } };
    const replicas = this.meta.placement(count, spec.locations);
    const initial = spec.hashSlots === undefined ? { initialSpans: initialSpansOf(spec.owns) } : { initialSpans: spec.hashSlots, hashed: true as const };
    const record: GroupRecord = { name: spec.name, state: "creating", owns: spec.owns, replicas, epoch: 1, ...initial, ...(spec.auto === true ? { auto: true } : {}) };
    const created = await this.meta.apply([Metadata.put(`groups/${spec.name}`, record, 0)]);
    if (!created.ok) {
      if (created.error.code !== "conditionFailed") return created;
      const existing = await this.meta.read<GroupRecord>(`groups/${spec.name}`);
      if (!existing.ok) return existing;
      if (existing.value?.value.state === "removed") return { ok: false, error: { code: "groupExists", detail: `a removed group was called ${spec.name}; its name cannot be used again` } };
      if (existing.value?.value.state !== "creating") return { ok: false, error: { code: "groupExists" } };
      return this.finish(existing.value.value);
    }
    const finished = await this.finish(record);
    if (finished.ok) logEvent("info", "groupCreated", { group: spec.name, owns: spec.owns, replicas: replicas.map((replica) => ({ replica: replica.id, location: replica.location })), ...(spec.auto === true ? { auto: true } : {}) });
    return finished;
  }

  /**
   * Removes a group: mark it deleting, retire its replicas, leave a tombstone (its ranges were moved
   * away first, see Reshape.remove). The name is not reused: the replica objects, named after the
   * group, keep the removed group's identity and log.
   */
  async remove(name: string): Promise<ClusterResult<{ deleted: true }>> {
    const marked = await this.markDeleting(name);
    if (!marked.ok) return marked;
    this.invalidate();
    const deleting = marked.value;
    await Promise.all(deleting.replicas.map((replica) => this.caller.direct(deleting, replica.id, "/internal/retire", {})));
    const tombstone: GroupRecord = { ...deleting, state: "removed" };
    const removed = await this.meta.apply([Metadata.put(`groups/${name}`, tombstone)]);
    if (removed.ok) logEvent("info", "groupRemoved", { group: name });
    return removed.ok ? { ok: true, value: { deleted: true } } : removed;
  }

  /**
   * Marks a group deleting (routed to no more) and answers its record. A group already deleting is
   * left as it is: another remover (the balancer's resume step, a merge asked for again) may be
   * finishing the same removal, and both carry on to the same tombstone.
   */
  private markDeleting(name: string): Promise<ClusterResult<GroupRecord>> {
    return this.rewrite(name, (current) => {
      if (current.state === "removed") return { ok: false, error: { code: "groupNotFound" } };
      if (current.state === "deleting") return { ok: true, value: current };
      return { write: { ...current, state: "deleting" } };
    });
  }

  /**
   * Reads group `name`'s record and writes what `step` makes of it, on condition that the record
   * is still the one read: a record another writer changed in between is read again (five times at
   * most). `step` answers a result instead of a write to stop there; an absent record is groupNotFound.
   */
  private async rewrite(name: string, step: (current: GroupRecord) => { write: GroupRecord } | ClusterResult<GroupRecord>): Promise<ClusterResult<GroupRecord>> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.meta.read<GroupRecord>(`groups/${name}`);
      if (!current.ok) return current;
      if (current.value === undefined) return { ok: false, error: { code: "groupNotFound" } };
      const next = step(current.value.value);
      if (!("write" in next)) return next;
      const applied = await this.meta.apply([Metadata.put(`groups/${name}`, next.write, current.value.version)]);
      if (applied.ok) return { ok: true, value: next.write };
      if (applied.error.code !== "conditionFailed") return applied;
    }
    return tableKeptChanging;
  }

  /** Every group record. */
  async list(): Promise<ClusterResult<GroupRecord[]>> {
    const records = await this.meta.list<GroupRecord>("groups/");
    return records.ok ? { ok: true, value: records.value.filter((record) => record.state !== "removed") } : records;
  }

  /** One group record (any state), or groupNotFound. */
  async get(name: string): Promise<ClusterResult<GroupRecord>> {
    const result = await this.meta.read<GroupRecord>(`groups/${name}`);
    if (!result.ok) return result;
    const record = result.value?.value;
    return record === undefined || record.state === "removed" ? { ok: false, error: { code: "groupNotFound" } } : { ok: true, value: record };
  }

  /** The default group, created on first use of the cluster. */
  ensureDefault(): Promise<ClusterResult<GroupRecord>> {
    return this.active(defaultGroup);
  }

  /** An active group by name (the default group is created on first use). */
  activeGroup(name: string): Promise<ClusterResult<GroupRecord>> {
    return this.active(name);
  }

  /** Gives a group its first spans through its log (a no-op for a group that already has ranges). */
  async initRanges(record: GroupRecord, spans: readonly Span[]): Promise<ClusterResult<true>> {
    const mode = record.hashed === true ? "hash" : "range";
    const result = await this.io.write(record, { type: "range", change: { action: "init", mode, spans } });
    if (result.ok) return result.value.ok ? { ok: true, value: true } : { ok: false, error: { code: "unavailable", detail: `group ${record.name} refused its ranges` } };
    return { ok: false, error: "error" in result ? result.error : { code: "unavailable", detail: `group ${record.name} is not serving` } };
  }

  private async finish(record: GroupRecord): Promise<ClusterResult<GroupRecord>> {
    await this.meta.bootstrapGroup(record);
    const initialized = await this.initRanges(record, record.initialSpans ?? initialSpansOf(record.owns)); // a record from before initialSpans
    if (!initialized.ok) return initialized;
    let activated = false;
    const result = await this.rewrite(record.name, (current) => {
      activated = false;
      if (current.state === "active") return { ok: true, value: current };
      // Deleted while it was being created: a removal retires its replicas, so it must not come back.
      if (current.state !== "creating") return { ok: false, error: { code: "groupNotFound" } };
      activated = true;
      return { write: { ...record, state: "active" } };
    });
    if (result.ok && activated) this.invalidate();
    return result;
  }

  private async tenantGroup(tenant: string): Promise<ClusterResult<GroupRecord>> {
    const name = `tenant-${tenant}`;
    const cached = this.fresh(name);
    if (cached !== undefined) return { ok: true, value: cached };
    return this.once(`group:${name}`, () => this.loadTenantGroup(tenant, name));
  }

  private async loadTenantGroup(tenant: string, name: string): Promise<ClusterResult<GroupRecord>> {
    const found = await this.get(name);
    if (found.ok && found.value.state === "active") return this.remember(found.value);
    if (!found.ok && found.error.code !== "groupNotFound") return found;
    const created = await this.create({ name, owns: { tenant } });
    return created.ok ? this.remember(created.value) : created;
  }

  private async active(name: string): Promise<ClusterResult<GroupRecord>> {
    const cached = this.fresh(name);
    if (cached !== undefined) return { ok: true, value: cached };
    return this.once(`group:${name}`, () => this.loadActive(name));
  }

  /**
   * Runs `load` once for every caller asking for `key` at the same time: a burst of requests on a
   * cold isolate (or a new tenant) reads, creates or migrates once instead of once per request.
   * The other callers wait for the result the loader leaves behind (wake.ts).
   */
  private async once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const loading = this.loading.get(key);
    if (loading === undefined) {
      const signal = settleSignal();
      this.loading.set(key, signal.settled);
      try {
        const value = await load();
        this.settled.set(key, { value, atMs: Date.now() });
        return value;
      } finally {
        if (this.loading.get(key) === signal.settled) this.loading.delete(key); // not a later loader's, had a waiter given up on this one
        signal.wake();
      }
    }
    const since = Date.now();
    // A settled load leaves the map before it wakes its waiters, so `waiting` is never a resolved promise twice.
    for (let waiting = loading, waitingSince = since; ; ) {
      await wakeOrPoll(waiting, loadPollMs);
      const settled = this.settled.get(key);
      if (settled !== undefined && settled.atMs >= since) return settled.value as T;
      const current = this.loading.get(key);
      if (current === undefined) return this.once(key, load); // the loader failed: load here (or wait for whoever started first)
      if (current !== waiting) [waiting, waitingSince] = [current, Date.now()];
      else if (Date.now() - waitingSince > loadWaitMs) {
        // Stuck (a cancelled request's loader never reaches its finally): forget it, or the key would wait for it for good.
        this.loading.delete(key);
        return this.once(key, load);
      }
    }
  }

  private async loadActive(name: string): Promise<ClusterResult<GroupRecord>> {
    const found = await this.get(name);
    if (found.ok && found.value.state === "active") return this.remember(found.value);
    if (name === defaultGroup && (!found.ok ? found.error.code === "groupNotFound" : found.value.state === "creating")) {
      const created = await this.create({ name, owns: { default: true } });
      if (created.ok) return this.remember(created.value);
      if (created.error.code !== "groupExists") return created;
      return this.loadActive(name); // not active(): that would wait for this very load

    }
    if (found.ok) return { ok: false, error: { code: "unavailable", detail: `group ${name} is ${found.value.state}` } };
    return found;
  }

  /** Builds the first range table from the legacy routing table and hands each group its spans; undefined on failure. */
  private async migrateKeyspace(): Promise<RangeTable | undefined> {
    const legacy = await this.meta.routing();
    if (!legacy.ok) return undefined;
    const table = legacy.value.value.entries.length === 0 ? singleGroupTable("range", defaultGroup) : fromLegacyRouting(legacy.value.value);
    for (const name of groupsOf(table)) {
      const record = await this.active(name);
      if (!record.ok) return undefined;
      const initialized = await this.initRanges(record.value, spansOf(table, name));
      if (!initialized.ok) return undefined;
    }
    const stored = await this.meta.apply([Metadata.put("keyspace", table, 0)]);
    if (stored.ok) return table;
    const raced = await this.meta.read<RangeTable>("keyspace");
    return raced.ok ? raced.value?.value : undefined;
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

/** The spans a new group starts with: the whole keyspace for the default group and a tenant's, nothing for any other (it receives ranges by moves). */
function initialSpansOf(owns: Ownership): Span[] {
  return "default" in owns || "tenant" in owns ? [{ start: "" }] : [];
}

/** The metadata record of a hashed tenant keyspace's range table. */
export function tenantTableRecord(tenant: string): string {
  return `tenants/${tenant}/keyspace`;
}
