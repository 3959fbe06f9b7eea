/**
 * The typed edgeraft client: keys (get, put, delete, compare-and-set), scans, batches, tenants,
 * groups and health over the v1 HTTP API (docs/api.md). It imports no server code and uses only
 * Web-standard APIs, so it runs in Node, Deno, browsers and Workers. Problem answers become
 * EdgeraftProblem errors with the stable `code`; retries follow transport.ts.
 */
import { bytesOf, bytesOfBase64, base64Of, textOf } from "./bytes.ts";
import { EdgeraftError, EdgeraftProblem, isProblem, type ProblemBody } from "./errors.ts";
import { Transport, type TransportOptions } from "./transport.ts";
import type {
  BatchOperation, BatchResult, ClusterHealth, Consistency, DeleteResult, GroupDetail, GroupSpec, GroupView,
  KeyRange, KvValue, LeaderTransfer, MoveResult, ScanEntry, SplitOptions, ScanOptions, ScanPage, TenantToken, TxnRequest, TxnResult, ValueInput, WriteCondition, WriteResult,
} from "./types.ts";

/** Where to connect and with which token; see TransportOptions. */
export type ClientOptions = TransportOptions;

/** Per-call options every method takes. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** Compare-and-set attempts `update` makes before giving up on a busy key. */
export const updateAttemptsDefault = 10;

/** A client for one edgeraft server and one keyspace (the shared one, or a tenant's). */
export class EdgeraftClient {
  /** Group administration (admin token). */
  readonly groups: GroupsApi;
  /** Tenant administration (admin token). */
  readonly tenants: TenantsApi;
  private readonly transport: Transport;
  /** `/v1` for the shared keyspace, `/v1/tenants/{tenant}` for a tenant's. */
  private readonly keyspacePath: string;

  /** A client of the shared keyspace at `options.url`. */
  constructor(options: ClientOptions | Transport, keyspacePath = "/v1") {
    this.transport = options instanceof Transport ? options : new Transport(options);
    this.keyspacePath = keyspacePath;
    this.groups = new GroupsApi(this.transport);
    this.tenants = new TenantsApi(this.transport);
  }

  /** The base URL this client talks to. */
  get url(): string {
    return this.transport.url;
  }

  /** A client of `tenant`'s own keyspace, with `options.token` (a tenant token) or this client's token. */
  tenant(tenant: string, options: { token?: string } = {}): EdgeraftClient {
    const transport = options.token === undefined ? this.transport : this.transport.withToken(options.token);
    return new EdgeraftClient(transport, `/v1/tenants/${encodeURIComponent(tenant)}`);
  }

  /** The key's value and version, or undefined when it is absent. */
  async get(key: string, options: CallOptions & { consistency?: Consistency } = {}): Promise<KvValue | undefined> {
    const query = options.consistency === undefined ? "" : `?consistency=${options.consistency}`;
    const response = await this.transport.call({ method: "GET", path: this.keyPath(key) + query, idempotent: true, acceptStatuses: [404], ...signalOf(options) });
    if (response.status === 404) {
      const body = (await response.json().catch(() => ({}))) as { code?: string };
      if (body.code === "notFound") return undefined;
      throw new EdgeraftProblem(404, body, 1);
    }
    const value = new Uint8Array(await response.arrayBuffer());
    return { key, value, text: textOf(value), version: versionOfEtag(response.headers.get("etag")), group: response.headers.get("x-edgeraft-group") ?? "" };
  }

  /**
   * Writes `value`; with `condition`, only when the key's version is `ifMatch` (0 = absent) or the
   * key is absent (`ifAbsent`). A condition that does not hold throws EdgeraftProblem
   * `conditionFailed` whose `currentVersion` says why. Only conditional writes are retried after
   * an unknown outcome.
   */
  async put(key: string, value: ValueInput, condition?: WriteCondition, options: CallOptions = {}): Promise<WriteResult> {
    const response = await this.transport.call({
      method: "PUT", path: this.keyPath(key), body: bytesOf(value), headers: conditionHeaders(condition),
      idempotent: condition !== undefined, ...signalOf(options),
    });
    return (await response.json()) as WriteResult;
  }

  /** Writes `value` only when the key is at `expectedVersion` (0 = absent): compare-and-set. */
  compareAndSet(key: string, expectedVersion: number, value: ValueInput, options: CallOptions = {}): Promise<WriteResult> {
    return this.put(key, value, { ifMatch: expectedVersion }, options);
  }

  /** Writes `value` only when the key does not exist (If-None-Match: *). */
  create(key: string, value: ValueInput, options: CallOptions = {}): Promise<WriteResult> {
    return this.put(key, value, { ifAbsent: true }, options);
  }

  /** Deletes the key (only at version `ifMatch` when given); `deleted` is false when it was absent. */
  async delete(key: string, condition?: { ifMatch: number }, options: CallOptions = {}): Promise<DeleteResult> {
    const response = await this.transport.call({
      method: "DELETE", path: this.keyPath(key), headers: conditionHeaders(condition),
      idempotent: condition !== undefined, ...signalOf(options),
    });
    return (await response.json()) as DeleteResult;
  }

  /**
   * Read-modify-write: reads the key, writes `change(current)` conditioned on the version read,
   * and starts again when another writer got there first (up to `attemptsMax` times).
   */
  async update(key: string, change: (current: KvValue | undefined) => ValueInput, options: CallOptions & { attemptsMax?: number } = {}): Promise<WriteResult> {
    const attemptsMax = options.attemptsMax ?? updateAttemptsDefault;
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(key, options);
      try {
        return await this.put(key, change(current), { ifMatch: current?.version ?? 0 }, options);
      } catch (error) {
        if (!isProblem(error, "conditionFailed") || attempt >= attemptsMax) throw error;
      }
    }
  }

  /** One page of an ordered scan. */
  async scanPage(options: ScanOptions & CallOptions = {}): Promise<ScanPage> {
    const query = new URLSearchParams();
    for (const name of ["prefix", "start", "end", "cursor", "consistency"] as const) {
      const value = options[name];
      if (value !== undefined) query.set(name, value);
    }
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    const search = query.size === 0 ? "" : `?${query}`;
    const response = await this.transport.call({ method: "GET", path: `${this.keyspacePath}/kv${search}`, idempotent: true, ...signalOf(options) });
    const page = (await response.json()) as { entries: { key: string; version: number; valueBase64: string }[]; cursor?: string };
    const entries = page.entries.map((entry): ScanEntry => {
      const value = bytesOfBase64(entry.valueBase64);
      return { key: entry.key, version: entry.version, value, text: textOf(value) };
    });
    return page.cursor === undefined ? { entries } : { entries, cursor: page.cursor };
  }

  /** Every page of a scan, following cursors until the last page. */
  async *scanPages(options: ScanOptions & CallOptions = {}): AsyncGenerator<ScanPage> {
    let cursor = options.cursor;
    do {
      const page = await this.scanPage(cursor === undefined ? options : { ...options, cursor });
      yield page;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  /** Every entry of a scan, in key order, fetched a page (`limit` entries) at a time. */
  async *scan(options: ScanOptions & CallOptions = {}): AsyncGenerator<ScanEntry> {
    for await (const page of this.scanPages(options)) yield* page.entries;
  }

  /** Runs independent operations (not a transaction); one result per operation, in order. */
  async batch(operations: readonly BatchOperation[], options: CallOptions = {}): Promise<BatchResult[]> {
    const body = JSON.stringify({ operations: operations.map(wireOperationOf) });
    const idempotent = operations.every((operation) => operation.op === "get" || operation.ifMatch !== undefined || (operation.op === "put" && operation.ifNoneMatch !== undefined));
    const response = await this.transport.call({
      method: "POST", path: `${this.keyspacePath}/batch`, body, headers: { "content-type": "application/json" }, idempotent, ...signalOf(options),
    });
    const answer = (await response.json()) as { results: (BatchResult & { valueBase64?: string })[] };
    return answer.results.map(({ valueBase64, value: _text, ...result }) => {
      if (valueBase64 === undefined) return result;
      const value = bytesOfBase64(valueBase64);
      return { ...result, value, text: textOf(value) };
    });
  }

  /**
   * Runs a transaction across groups: every check holds and every write applies, or nothing does
   * (EdgeraftProblem `txnConflict`, whose `keys` name the keys at fault). Only read-only
   * transactions are retried after an unknown outcome.
   */
  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const writes = (request.writes ?? []).map((write) => (write.op === "put" ? { op: "put", key: write.key, valueBase64: base64Of(bytesOf(write.value)) } : write));
    const body = JSON.stringify({ reads: request.reads ?? [], checks: request.checks ?? [], writes });
    const response = await this.transport.call({
      method: "POST", path: `${this.keyspacePath}/txn`, body, headers: { "content-type": "application/json" }, idempotent: writes.length === 0, ...signalOf(options),
    });
    const answer = (await response.json()) as { committed: true; reads: { key: string; found: boolean; version: number; valueBase64?: string }[]; versions: Record<string, number> };
    const reads = answer.reads.map(({ key, found, version, valueBase64 }) => {
      if (valueBase64 === undefined) return { key, found, version };
      const value = bytesOfBase64(valueBase64);
      return { key, found, version, value, text: textOf(value) };
    });
    return { committed: true, reads, versions: answer.versions };
  }

  /** The cluster's health (admin); answered whether healthy (200) or not (503). `lagEntries` and `lagSeconds` override the server's lag limits. */
  async health(options: CallOptions & { lagEntries?: number; lagSeconds?: number } = {}): Promise<ClusterHealth> {
    const parts = [...(options.lagEntries === undefined ? [] : [`lagEntries=${options.lagEntries}`]), ...(options.lagSeconds === undefined ? [] : [`lagSeconds=${options.lagSeconds}`])];
    const query = parts.length === 0 ? "" : `?${parts.join("&")}`;
    const response = await this.transport.call({ method: "GET", path: `/v1/health${query}`, idempotent: true, acceptStatuses: [503], ...signalOf(options) });
    const body = (await response.json()) as ClusterHealth & ProblemBody;
    if (response.status === 503 && body.code !== undefined) throw new EdgeraftProblem(503, body, 1);
    return body;
  }

  /** True when the front door answers its liveness route (no token needed). */
  async live(options: CallOptions = {}): Promise<boolean> {
    try {
      const response = await this.transport.call({ method: "GET", path: "/v1/health/live", idempotent: true, ...signalOf(options) });
      return ((await response.json()) as { ok?: boolean }).ok === true;
    } catch (error) {
      if (error instanceof EdgeraftError) return false;
      throw error;
    }
  }

  private keyPath(key: string): string {
    if (key === "." || key === "..") throw new RangeError(`the key "${key}" cannot be addressed in a URL path; use batch()`);
    return `${this.keyspacePath}/kv/${encodeURIComponent(key)}`;
  }
}

/** GET/POST /v1/groups, GET/DELETE /v1/groups/{name}, and reshaping: split, merge, move a range. */
export class GroupsApi {
  private readonly transport: Transport;

  /** Group calls over `transport`. */
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Every group, with what it owns and where its replicas are. */
  async list(options: CallOptions = {}): Promise<GroupView[]> {
    const response = await this.transport.call({ method: "GET", path: "/v1/groups", idempotent: true, ...signalOf(options) });
    return ((await response.json()) as { groups: GroupView[] }).groups;
  }

  /** One group with its live health; throws EdgeraftProblem `groupNotFound` when there is none. */
  async get(name: string, options: CallOptions = {}): Promise<GroupDetail> {
    const response = await this.transport.call({ method: "GET", path: `/v1/groups/${encodeURIComponent(name)}`, idempotent: true, ...signalOf(options) });
    return (await response.json()) as GroupDetail;
  }

  /** Creates a group owning a prefix or a range; `groupExists` when the name is taken. */
  async create(spec: GroupSpec, options: CallOptions = {}): Promise<GroupView> {
    const response = await this.transport.call({
      method: "POST", path: "/v1/groups", body: JSON.stringify(spec), headers: { "content-type": "application/json" }, idempotent: false, ...signalOf(options),
    });
    return (await response.json()) as GroupView;
  }

  /** Removes a group; `groupNotFound` when there is none, `groupProtected` for the default group and for a group holding a hashed tenant's slots. */
  async remove(name: string, options: CallOptions = {}): Promise<void> {
    const response = await this.transport.call({ method: "DELETE", path: `/v1/groups/${encodeURIComponent(name)}`, idempotent: false, ...signalOf(options) });
    await response.arrayBuffer();
  }

  /** Splits a group at `options.at` (or its median key) into a new group; answers the new group. */
  async splitGroup(name: string, split: SplitOptions = {}, options: CallOptions = {}): Promise<GroupView> {
    return this.post<GroupView>(`/v1/groups/${encodeURIComponent(name)}/split`, split, options);
  }

  /** Group `name` absorbs the adjacent group `other`, which is removed; answers the surviving group. */
  async mergeGroups(name: string, other: string, options: CallOptions = {}): Promise<GroupView> {
    return this.post<GroupView>(`/v1/groups/${encodeURIComponent(name)}/merge`, { with: other }, options);
  }

  /**
   * Hands the group's leadership to replica `to`, or to the best candidate when `to` is omitted;
   * answers when it finished. Throws EdgeraftProblem `replicaNotFound`, `transferFailed` (409, another
   * replica took over) or `transferTimedOut` (503).
   */
  async transferLeader(name: string, to?: number, options: CallOptions = {}): Promise<LeaderTransfer> {
    return this.post<LeaderTransfer>(`/v1/groups/${encodeURIComponent(name)}/transfer-leader`, to === undefined ? {} : { to }, options);
  }

  /** Moves every part of `range` that another group serves to group `to`. */
  async moveRange(range: KeyRange, to: string, options: CallOptions = {}): Promise<MoveResult> {
    const body = range.end === undefined ? { start: range.start, to } : { start: range.start, end: range.end, to };
    return this.post<MoveResult>("/v1/ranges/move", body, options);
  }

  /** Adds a replica to group `name` (at `placement.location`, else where the group has fewest); answers the group and the new replica's id. */
  async addReplica(name: string, placement: { location?: string } = {}, options: CallOptions = {}): Promise<GroupView & { replica: number }> {
    return this.post<GroupView & { replica: number }>(`/v1/groups/${encodeURIComponent(name)}/replicas`, placement, options);
  }

  /** Removes replica `id` from group `name` (409 tooFewReplicas below 3 replicas); answers the group. */
  async removeReplica(name: string, id: number, options: CallOptions = {}): Promise<GroupView> {
    const path = `/v1/groups/${encodeURIComponent(name)}/replicas/${id}`;
    const response = await this.transport.call({ method: "DELETE", path, idempotent: false, ...signalOf(options) });
    return (await response.json()) as GroupView;
  }

  /** Replaces replica `id` of group `name` by a new one (added and caught up before the old one leaves); answers the group and the new replica's id. */
  async replaceReplica(name: string, id: number, placement: { location?: string } = {}, options: CallOptions = {}): Promise<GroupView & { replica: number }> {
    return this.post<GroupView & { replica: number }>(`/v1/groups/${encodeURIComponent(name)}/replicas/${id}/replace`, placement, options);
  }

  private async post<T>(path: string, body: unknown, options: CallOptions): Promise<T> {
    const response = await this.transport.call({ method: "POST", path, body: JSON.stringify(body), headers: { "content-type": "application/json" }, idempotent: false, ...signalOf(options) });
    return (await response.json()) as T;
  }
}

/** POST /v1/tenants/{tenant}/tokens. */
export class TenantsApi {
  private readonly transport: Transport;

  /** Tenant calls over `transport`. */
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Issues a new token for `tenant` (shown only this once; the server keeps its hash). */
  async issueToken(tenant: string, options: CallOptions = {}): Promise<TenantToken> {
    const response = await this.transport.call({ method: "POST", path: `/v1/tenants/${encodeURIComponent(tenant)}/tokens`, idempotent: false, ...signalOf(options) });
    return (await response.json()) as TenantToken;
  }
}

/** The version an ETag header carries (`"7"` is 7); 0 when it is missing or not one. */
export function versionOfEtag(etag: string | null): number {
  const match = /^"(\d+)"$/.exec(etag ?? "");
  return match === null ? 0 : Number(match[1]);
}

function conditionHeaders(condition: WriteCondition | { ifMatch: number } | undefined): Record<string, string> {
  if (condition === undefined) return {};
  if (condition.ifMatch !== undefined) return { "if-match": `"${condition.ifMatch}"` };
  return { "if-none-match": "*" };
}

function wireOperationOf(operation: BatchOperation): Record<string, unknown> {
  if (operation.op !== "put") return { ...operation };
  const { value, ...rest } = operation;
  return typeof value === "string" ? { ...rest, value } : { ...rest, valueBase64: base64Of(value) };
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}
