/**
 * Hashed tenant keyspaces: a tenant created with `{"mode": "hash", "groups": N}` has its keys
 * spread by hash slot (src/kv/span.ts, hashSlotCount slots) over N groups, each owning an equal
 * contiguous share of the slots; adding a group moves only its share of slots from the groups
 * holding the most (consistent hashing, multiraft/keyspace.ts rebalanceMoves), one move saga per
 * run of slots, so the keyspace keeps serving. The table lives in the metadata group under
 * `tenants/<tenant>/keyspace`; a tenant without one is served by its single group, as before.
 */
import { hashedTenantGroupsMax } from "../../shared/limits.ts";
import { groupsOf, hashedTable, rebalanceMoves, spansOf } from "../../multiraft/keyspace.ts";
import { startMove } from "../../multiraft/move-saga.ts";
import type { ClusterResult } from "../cluster.ts";
import { tenantTableRecord, type Groups } from "./groups.ts";
import { Metadata, type GroupRecord } from "./metadata.ts";
import type { MoveDriver } from "./move-driver.ts";


/** Creates hashed tenant keyspaces and grows them. */
export class HashedTenants {
  private readonly groups: Groups;
  private readonly driver: MoveDriver;
  private readonly meta: Metadata;

  constructor(groups: Groups, driver: MoveDriver, meta: Metadata) {
    this.groups = groups;
    this.driver = driver;
    this.meta = meta;
  }

  /**
   * Creates the tenant's keyspace hashed over `count` groups. Idempotent for the same count (a
   * retry finishes groups a crash left unfinished); refused when the tenant already has a keyspace
   * of another shape.
   */
  async create(tenant: string, count: number): Promise<ClusterResult<GroupRecord[]>> {
    const existing = await this.groups.tenantTable(tenant, true);
    if (!existing.ok) return existing;
    let table = existing.value;
    if (table === undefined) {
      const single = await this.groups.get(`tenant-${tenant}`);
      if (single.ok) return badRequest(`tenant ${tenant} already has a keyspace in one group; the mode is chosen when a tenant is created`);
      table = hashedTable(Array.from({ length: count }, (_, index) => groupName(tenant, index + 1)));
      const stored = await this.meta.apply([Metadata.put(tenantTableRecord(tenant), table, 0)]);
      if (!stored.ok && stored.error.code !== "conditionFailed") return stored;
      const raced = await this.groups.tenantTable(tenant, true);
      if (!raced.ok || raced.value === undefined) return raced.ok ? { ok: false, error: { code: "unavailable", detail: "the tenant's table vanished" } } : raced;
      table = raced.value;
    }
    if (table.mode !== "hash" || groupsOf(table).length !== count) return { ok: false, error: { code: "groupExists" } };
    const records: GroupRecord[] = [];
    for (const name of groupsOf(table)) {
      const created = await this.groups.create({ name, owns: { tenant }, hashSlots: spansOf(table, name) });
      const record = created.ok ? created : created.error.code === "groupExists" ? await this.groups.activeGroup(name) : created;
      if (!record.ok) return record;
      records.push(record.value);
    }
    this.groups.invalidate();
    return { ok: true, value: records };
  }

  /** Adds a group to a hashed tenant keyspace and moves its fair share of slots to it; answers the new group. */
  async addGroup(tenant: string): Promise<ClusterResult<GroupRecord>> {
    await this.driver.resumeStale(true); // plan from a table no unfinished move is behind
    const current = await this.groups.tenantTable(tenant, true);
    if (!current.ok) return current;
    const table = current.value;
    if (table === undefined || table.mode !== "hash") return badRequest(`tenant ${tenant} has no hashed keyspace; create it with {"mode": "hash"}`);
    const names = groupsOf(table);
    if (names.length >= hashedTenantGroupsMax) return badRequest(`a hashed keyspace has at most ${hashedTenantGroupsMax} groups`);
    const name = groupName(tenant, Math.max(...names.map((existing) => Number(existing.slice(existing.lastIndexOf("-h") + 2)))) + 1);
    const created = await this.groups.create({ name, owns: { tenant }, hashSlots: [] });
    if (!created.ok) return created;
    for (const move of rebalanceMoves(table, name)) {
      const result = await this.driver.run(startMove(`move-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`, move.span, move.from, move.to, tenantTableRecord(tenant)));
      if (!result.ok) return result;
      if (result.value.phase !== "done") return { ok: false, error: { code: "unavailable", detail: `moving slots from ${move.from} rolled back: ${result.value.reason ?? "refused"}` } };
    }
    this.groups.invalidate();
    return this.groups.get(name);
  }
}

function groupName(tenant: string, index: number): string {
  return `tenant-${tenant}-h${index}`;
}

function badRequest(detail: string): { ok: false; error: { code: "badRequest"; detail: string } } {
  return { ok: false, error: { code: "badRequest", detail } };
}
