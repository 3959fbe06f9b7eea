/**
 * An in-memory Cluster for router tests: one Map-based keyspace per tenant (plus the shared one)
 * with real versions and write conditions, groups and tenant tokens in Maps. Tests can make the
 * next call fail (`failNext`) or throw (`throwNext`), and read every call made (`calls`).
 */
import { compareKeys } from "../../src/kv/index.ts";
import type { KvEntry } from "../../src/kv/index.ts";
import type {
  BatchRequestOperation,
  BatchResultItem,
  Cluster,
  ClusterError,
  ClusterResult,
  Consistency,
  FaultControl,
  FaultSpec,
  GroupHealth,
  GroupSpec,
  GroupView,
  Keyspace,
  TxnOutcome,
  TxnRequest,
  LeaderTransfer,
  VersionedValue,
  WriteCondition,
  WriteOutcome,
} from "../../src/router/cluster.ts";

type Stored = { value: Uint8Array; version: number };
type ScanRequest = { prefix?: string; start?: string; end?: string; limit: number; cursor?: string };

const cursorPrefix = "after:";

/** A Cluster held in memory; simple, but with the real semantics of versions and conditions. */
export class MemoryCluster implements Cluster {
  /** Every call made, as "method keyspace-or-name", in order. */
  readonly calls: string[] = [];
  /** The consistency asked of the last read or scan. */
  lastConsistency: Consistency | undefined;
  /** When set, the next call answers this error instead of doing anything. */
  failNext: ClusterError | undefined;
  /** When set, the next call throws (a bug in the cluster client, as the router sees it). */
  throwNext = false;
  /** What health() reports. */
  healthy = true;
  /** The origin (locationHint) of the last get, put or delete, as the router derived it from request.cf. */
  lastOrigin: string | undefined;

  private readonly keyspaces = new Map<string, Map<string, Stored>>();
  private readonly groups = new Map<string, GroupView>();
  private readonly tokens = new Map<string, string>();
  private revision = 0;
  private tokensIssued = 0;

  /** A cluster holding only the default group. */
  constructor() {
    this.groups.set("default", { name: "default", state: "active", owns: { default: true }, replicas: replicasAt(["wnam", "weur", "apac"]), epoch: 1, ranges: [{ start: "" }] });
  }

  /** Registers `token` as belonging to `tenant` (tests issue tokens without going through HTTP). */
  addToken(token: string, tenant: string): void {
    this.tokens.set(token, tenant);
  }

  /** Everything stored (keys, versions, values, groups, tokens) as one comparable string. */
  snapshot(): string {
    // Reads create empty keyspace maps; an empty keyspace holds no data, so it is left out.
    const keyspaces = [...this.keyspaces].filter(([, map]) => map.size > 0).sort(([left], [right]) => compareKeys(left, right));
    const data = keyspaces.map(([name, map]) => [name, [...map].sort(([left], [right]) => compareKeys(left, right)).map(([key, stored]) => [key, stored.version, [...stored.value]])]);
    return JSON.stringify({ data, groups: [...this.groups.keys()].sort(), tokens: [...this.tokens.keys()].sort(), revision: this.revision });
  }

  async get(keyspace: Keyspace, key: string, consistency: Consistency): Promise<ClusterResult<VersionedValue & { group: string }>> {
    this.lastOrigin = keyspace.origin;
    return this.call(`get ${nameOf(keyspace)}`, () => {
      this.lastConsistency = consistency;
      const stored = this.mapOf(keyspace).get(key);
      if (stored === undefined) return failure({ code: "notFound" });
      return success({ value: stored.value.slice(), version: stored.version, group: this.groupOf(keyspace, key) });
    });
  }

  async put(keyspace: Keyspace, key: string, value: Uint8Array, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome>> {
    this.lastOrigin = keyspace.origin;
    return this.call(`put ${nameOf(keyspace)}`, () => this.putNow(keyspace, key, value, condition));
  }

  async delete(keyspace: Keyspace, key: string, condition?: WriteCondition): Promise<ClusterResult<WriteOutcome & { deleted: boolean }>> {
    return this.call(`delete ${nameOf(keyspace)}`, () => this.deleteNow(keyspace, key, condition));
  }

  async scan(keyspace: Keyspace, request: ScanRequest, consistency: Consistency): Promise<ClusterResult<{ entries: KvEntry[]; cursor?: string }>> {
    return this.call(`scan ${nameOf(keyspace)}`, () => {
      this.lastConsistency = consistency;
      if (request.cursor !== undefined && !request.cursor.startsWith(cursorPrefix)) return failure({ code: "badRequest", detail: "the cursor is not one this cluster made" });
      const after = request.cursor?.slice(cursorPrefix.length);
      const keys = [...this.mapOf(keyspace).keys()].sort(compareKeys).filter((key) => inRange(key, request) && (after === undefined || compareKeys(key, after) > 0));
      const page = keys.slice(0, request.limit);
      const map = this.mapOf(keyspace);
      const entries = page.flatMap((key) => {
        const stored = map.get(key);
        return stored === undefined ? [] : [{ key, value: stored.value.slice(), version: stored.version }];
      });
      const last = page.at(-1);
      return success(keys.length > page.length && last !== undefined ? { entries, cursor: cursorPrefix + last } : { entries });
    });
  }

  async batch(keyspace: Keyspace, operations: readonly BatchRequestOperation[]): Promise<ClusterResult<BatchResultItem[]>> {
    return this.call(`batch ${nameOf(keyspace)}`, () => success(operations.map((operation) => this.runOperation(keyspace, operation))));
  }

  async txn(keyspace: Keyspace, request: TxnRequest): Promise<ClusterResult<TxnOutcome>> {
    return this.call(`txn ${nameOf(keyspace)}`, () => {
      const map = this.mapOf(keyspace);
      const failed = request.checks.filter((check) => (map.get(check.key)?.version ?? 0) !== check.version).map((check) => check.key);
      if (failed.length > 0) return failure({ code: "txnConflict", keys: failed, detail: "a check failed" });
      const reads = request.reads.map((key) => {
        const stored = map.get(key);
        return stored === undefined ? { key, found: false, version: 0 } : { key, found: true, value: stored.value.slice(), version: stored.version };
      });
      const versions = request.writes.map((write) => {
        this.revision += 1;
        if (write.op === "put") map.set(write.key, { value: write.value.slice(), version: this.revision });
        else map.delete(write.key);
        return { key: write.key, version: this.revision };
      });
      return success({ reads, versions });
    });
  }

  async listGroups(): Promise<ClusterResult<GroupView[]>> {
    return this.call("listGroups", () => success([...this.groups.values()]));
  }

  async createGroup(spec: GroupSpec): Promise<ClusterResult<GroupView>> {
    return this.call(`createGroup ${spec.name}`, () => {
      if (this.groups.has(spec.name)) return failure({ code: "groupExists" });
      const locations = spec.locations ?? ["wnam", "weur", "apac"];
      const replicas = Array.from({ length: spec.replicas ?? 3 }, (_, index) => locations[index % locations.length]!);
      const ranges = "prefix" in spec.owns ? [{ start: spec.owns.prefix }] : [spec.owns];
      const view: GroupView = { name: spec.name, state: "active", owns: spec.owns, replicas: replicasAt(replicas), epoch: 1, ranges };
      this.groups.set(spec.name, view);
      return success(view);
    });
  }

  async getGroup(name: string): Promise<ClusterResult<GroupView & { health: GroupHealth }>> {
    return this.call(`getGroup ${name}`, () => {
      const view = this.groups.get(name);
      return view === undefined ? failure({ code: "groupNotFound" }) : success({ ...view, health: healthOf(view, this.healthy) });
    });
  }

  async deleteGroup(name: string): Promise<ClusterResult<{ deleted: true }>> {
    return this.call(`deleteGroup ${name}`, () => (this.groups.delete(name) ? success({ deleted: true as const }) : failure({ code: "groupNotFound" })));
  }

  async splitGroup(name: string, options: { at?: string; newName?: string }): Promise<ClusterResult<GroupView>> {
    return this.call(`splitGroup ${name}`, () => {
      const source = this.groups.get(name);
      if (source === undefined) return failure({ code: "groupNotFound" });
      const newName = options.newName ?? `${name}-split`;
      if (this.groups.has(newName)) return failure({ code: "groupExists" });
      const at = options.at ?? "m";
      const view: GroupView = { ...source, name: newName, owns: { start: at }, ranges: [{ start: at }] };
      this.groups.set(newName, view);
      return success(view);
    });
  }

  async mergeGroups(name: string, other: string): Promise<ClusterResult<GroupView>> {
    return this.call(`mergeGroups ${name} ${other}`, () => {
      const survivor = this.groups.get(name);
      if (survivor === undefined || !this.groups.has(other)) return failure({ code: "groupNotFound" });
      this.groups.delete(other);
      return success(survivor);
    });
  }

  /** Leadership as a map: replica 1 leads every group until a transfer names another. */
  private readonly leaders = new Map<string, number>();

  async transferLeader(name: string, to?: number): Promise<ClusterResult<LeaderTransfer>> {
    return this.call(`transferLeader ${name} ${to ?? "best"}`, () => {
      const group = this.groups.get(name);
      if (group === undefined) return failure({ code: "groupNotFound" });
      if (to !== undefined && !group.replicas.some((replica) => replica.id === to)) return failure({ code: "replicaNotFound", detail: `group ${name} has no replica ${to}` });
      const previous = this.leaders.get(name) ?? 1;
      const leader = to ?? previous;
      this.leaders.set(name, leader);
      return success({ group: name, previous, leader, term: 1, transferred: leader !== previous });
    });
  }

  async moveRange(span: { start: string; end?: string }, to: string): Promise<ClusterResult<{ moves: { start: string; end?: string; to: string; moved: number }[] }>> {
    return this.call(`moveRange ${to}`, () => (this.groups.has(to) ? success({ moves: [{ ...span, to, moved: 0 }] }) : failure({ code: "groupNotFound" })));
  }

  async createTenantKeyspace(tenant: string, options: { mode: "hash"; groups: number }): Promise<ClusterResult<{ mode: "hash"; groups: GroupView[] }>> {
    return this.call(`createTenantKeyspace ${tenant}`, () => {
      const names = Array.from({ length: options.groups }, (_, index) => `tenant-${tenant}-h${index + 1}`);
      if (names.some((name) => this.groups.has(name))) return failure({ code: "groupExists" });
      const views = names.map((name): GroupView => ({ name, state: "active", owns: { tenant }, replicas: replicasAt(["wnam", "weur", "apac"]), epoch: 1, ranges: [], hashed: true }));
      for (const view of views) this.groups.set(view.name, view);
      return success({ mode: "hash" as const, groups: views });
    });
  }

  async addTenantGroup(tenant: string): Promise<ClusterResult<GroupView>> {
    return this.call(`addTenantGroup ${tenant}`, () => {
      const count = [...this.groups.keys()].filter((name) => name.startsWith(`tenant-${tenant}-h`)).length;
      if (count === 0) return failure({ code: "badRequest", detail: "no hashed keyspace" });
      const view: GroupView = { name: `tenant-${tenant}-h${count + 1}`, state: "active", owns: { tenant }, replicas: replicasAt(["wnam"]), epoch: 1, ranges: [], hashed: true };
      this.groups.set(view.name, view);
      return success(view);
    });
  }

  async addReplica(name: string, options: { location?: string }): Promise<ClusterResult<GroupView & { replica: number }>> {
    return this.call(`addReplica ${name}`, () => {
      const view = this.groups.get(name);
      if (view === undefined) return failure({ code: "groupNotFound" });
      const replica = Math.max(0, ...view.replicas.map((r) => r.id)) + 1;
      const changed = { ...view, replicas: [...view.replicas, { id: replica, location: options.location ?? "wnam" }] };
      this.groups.set(name, changed);
      return success({ ...changed, replica });
    });
  }

  async removeReplica(name: string, id: number): Promise<ClusterResult<GroupView>> {
    return this.call(`removeReplica ${name} ${id}`, () => {
      const view = this.groups.get(name);
      if (view === undefined) return failure({ code: "groupNotFound" });
      if (!view.replicas.some((r) => r.id === id)) return failure({ code: "replicaNotFound", detail: `no replica ${id}` });
      if (view.replicas.length <= 3) return failure({ code: "tooFewReplicas", detail: "at least 3 replicas stay" });
      const changed = { ...view, replicas: view.replicas.filter((r) => r.id !== id) };
      this.groups.set(name, changed);
      return success(changed);
    });
  }

  async replaceReplica(name: string, id: number, options: { location?: string }): Promise<ClusterResult<GroupView & { replica: number }>> {
    return this.call(`replaceReplica ${name} ${id}`, () => {
      const view = this.groups.get(name);
      if (view === undefined) return failure({ code: "groupNotFound" });
      if (!view.replicas.some((r) => r.id === id)) return failure({ code: "replicaNotFound", detail: `no replica ${id}` });
      const replica = Math.max(0, ...view.replicas.map((r) => r.id)) + 1;
      const changed = { ...view, replicas: [...view.replicas.filter((r) => r.id !== id), { id: replica, location: options.location ?? "wnam" }] };
      this.groups.set(name, changed);
      return success({ ...changed, replica });
    });
  }

  async issueTenantToken(tenant: string): Promise<ClusterResult<{ token: string }>> {
    return this.call(`issueTenantToken ${tenant}`, () => {
      this.tokensIssued += 1;
      const token = `tenant-token-${tenant}-${this.tokensIssued}`;
      this.tokens.set(token, tenant);
      return success({ token });
    });
  }

  async tenantOfToken(token: string): Promise<string | undefined> {
    this.calls.push("tenantOfToken");
    return this.tokens.get(token);
  }

  async health(): Promise<ClusterResult<{ healthy: boolean; groups: GroupHealth[] }>> {
    return this.call("health", () => success({ healthy: this.healthy, groups: [...this.groups.values()].map((view) => healthOf(view, this.healthy)) }));
  }

  private async call<T>(name: string, run: () => ClusterResult<T>): Promise<ClusterResult<T>> {
    this.calls.push(name);
    if (this.throwNext) {
      this.throwNext = false;
      throw new Error("memory cluster: injected exception");
    }
    const error = this.failNext;
    if (error !== undefined) {
      this.failNext = undefined;
      return failure(error);
    }
    return run();
  }

  private putNow(keyspace: Keyspace, key: string, value: Uint8Array, condition?: WriteCondition): ClusterResult<WriteOutcome> {
    const map = this.mapOf(keyspace);
    const currentVersion = map.get(key)?.version ?? 0;
    if (!holds(condition, currentVersion)) return failure({ code: "conditionFailed", currentVersion });
    this.revision += 1;
    map.set(key, { value: value.slice(), version: this.revision });
    return success({ key, version: this.revision, group: this.groupOf(keyspace, key) });
  }

  private deleteNow(keyspace: Keyspace, key: string, condition?: WriteCondition): ClusterResult<WriteOutcome & { deleted: boolean }> {
    const map = this.mapOf(keyspace);
    const currentVersion = map.get(key)?.version ?? 0;
    if (!holds(condition, currentVersion)) return failure({ code: "conditionFailed", currentVersion });
    this.revision += 1;
    const deleted = map.delete(key);
    return success({ key, version: this.revision, group: this.groupOf(keyspace, key), deleted });
  }

  private runOperation(keyspace: Keyspace, operation: BatchRequestOperation): BatchResultItem {
    const key = operation.key;
    if (operation.op === "get") {
      const stored = this.mapOf(keyspace).get(key);
      if (stored === undefined) return { ok: true, key, group: this.groupOf(keyspace, key), version: 0, found: false };
      return { ok: true, key, group: this.groupOf(keyspace, key), version: stored.version, value: stored.value.slice(), found: true };
    }
    if (operation.op === "put") {
      const result = this.putNow(keyspace, key, operation.value, operation.condition);
      return result.ok ? { ok: true, key, group: result.value.group, version: result.value.version } : { ok: false, key, error: result.error };
    }
    const result = this.deleteNow(keyspace, key, operation.condition);
    if (!result.ok) return { ok: false, key, error: result.error };
    return { ok: true, key, group: result.value.group, version: result.value.version, found: result.value.deleted };
  }

  private mapOf(keyspace: Keyspace): Map<string, Stored> {
    const name = nameOf(keyspace);
    let map = this.keyspaces.get(name);
    if (map === undefined) {
      map = new Map();
      this.keyspaces.set(name, map);
    }
    return map;
  }

  /** The group owning `key`: a tenant's own (created on first use), a matching prefix or range group, or the default. */
  private groupOf(keyspace: Keyspace, key: string): string {
    if (keyspace.kind === "tenant") {
      const name = `tenant-${keyspace.tenant}`;
      if (!this.groups.has(name)) this.groups.set(name, { name, state: "active", owns: { tenant: keyspace.tenant }, replicas: replicasAt(["wnam", "weur", "apac"]), epoch: 1, ranges: [{ start: "" }] });
      return name;
    }
    for (const view of this.groups.values()) {
      if ("prefix" in view.owns && key.startsWith(view.owns.prefix)) return view.name;
      if ("start" in view.owns && inRange(key, view.owns)) return view.name;
    }
    return "default";
  }
}

/** Fault injection held in memory: a list of the faults in force. */
export class MemoryFaults implements FaultControl {
  /** The faults in force, oldest first. */
  readonly faults: FaultSpec[] = [];

  async inject(fault: FaultSpec): Promise<ClusterResult<{ applied: true }>> {
    if (fault.kind !== "heal") this.faults.push(fault);
    else this.faults.splice(0, this.faults.length, ...this.faults.filter((held) => fault.group !== undefined && "group" in held && held.group !== fault.group));
    return success({ applied: true as const });
  }

  async list(): Promise<ClusterResult<FaultSpec[]>> {
    return success([...this.faults]);
  }
}

function success<T>(value: T): ClusterResult<T> {
  return { ok: true, value };
}

function failure<T>(error: ClusterError): ClusterResult<T> {
  return { ok: false, error };
}

function nameOf(keyspace: Keyspace): string {
  return keyspace.kind === "shared" ? "shared" : `tenant:${keyspace.tenant}`;
}

function holds(condition: WriteCondition | undefined, currentVersion: number): boolean {
  if (condition === undefined) return true;
  return "ifAbsent" in condition ? currentVersion === 0 : condition.ifVersion === currentVersion;
}

function inRange(key: string, range: { prefix?: string; start?: string; end?: string }): boolean {
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.start !== undefined && compareKeys(key, range.start) < 0) return false;
  return range.end === undefined || compareKeys(key, range.end) < 0;
}

function replicasAt(locations: readonly string[]): { id: number; location: string }[] {
  return locations.map((location, index) => ({ id: index + 1, location }));
}

function healthOf(view: GroupView, healthy: boolean): GroupHealth {
  return { name: view.name, leader: 1, term: 1, healthy, replicas: view.replicas.map((replica) => ({ id: replica.id, reachable: healthy })) };
}
