/**
 * The key routes: GET/PUT/DELETE /v1/kv/{key} and the scan GET /v1/kv, in the shared keyspace and
 * again under /v1/tenants/{tenant}/kv in a tenant's own. The key is the whole rest of the path,
 * percent-decoded, so `/v1/kv/a/b` and `/v1/kv/a%2Fb` address the same key `a/b`.
 */
import type { Hono } from "hono";
import type { Cluster, Keyspace } from "./cluster.ts";
import { readBodyLimited } from "./body.ts";
import { valueViewOf } from "./encoding.ts";
import { scanLimitDefault, writeConditionOf } from "./parse.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { bytesSchema, type OperationDoc } from "./openapi/operation.ts";
import { deleteAnswer, deleteHeaders, putHeaders, scanAnswer, writeAnswer } from "./openapi/schemas.ts";
import { keyParams, readQuery, scanQuery, tenantKeyParams, tenantParams } from "./parameters.ts";
import { pathParametersOf, queryParametersOf } from "./route-input.ts";

/** What the key routes need. */
export interface KvRouteOptions {
  readonly cluster: Cluster;
  /** Largest value a PUT may carry, in bytes. */
  readonly valueBytesMax: number;
}

/** Registers the key and scan routes for the shared keyspace and for tenants. */
export function registerKvRoutes(app: Hono, guards: Guards, options: KvRouteOptions): void {
  const handlers = kvHandlers(options);
  for (const base of ["/v1/kv", "/v1/tenants/:tenant/kv"]) {
    const docs = kvDocs(base === "/v1/kv" ? "shared" : "tenant", options.valueBytesMax);
    addRoute(app, base, { GET: guards.data(handlers.scan) }, { GET: docs.scan });
    addRoute(app, `${base}/:key{.*}`, {
      GET: guards.data(handlers.get),
      PUT: guards.data(handlers.put),
      DELETE: guards.data(handlers.delete),
    }, { GET: docs.get, PUT: docs.put, DELETE: docs.delete });
  }
}

/** The API description of the key routes in the shared keyspace or a tenant's. */
function kvDocs(keyspace: "shared" | "tenant", valueBytesMax: number): Record<"get" | "put" | "delete" | "scan", OperationDoc> {
  const where = keyspace === "shared" ? "" : " in the tenant's keyspace";
  const tag = keyspace === "shared" ? "keys" : "tenants";
  const params = keyspace === "shared" ? keyParams : tenantKeyParams;
  const tenantProblems = keyspace === "shared" ? [] : (["badTenant"] as const);
  const readProblems = [...tenantProblems, "badKey", "badQuery", "badConsistency", "unavailable"] as const;
  const writeProblems = [...tenantProblems, "badKey", "badPrecondition", "conditionFailed", "unavailable", "outcomeUnknown"] as const;
  return {
    get: {
      summary: `Read a key${where}`, tag, params, query: readQuery,
      answers: { 200: { description: "The value's bytes; ETag is its version.", schema: bytesSchema, contentType: "application/octet-stream", headers: { etag: 'The version, like "42".', "x-edgeraft-group": "The group that answered." } } },
      problems: [...readProblems, "notFound"],
    },
    put: {
      summary: `Write a key${where}`, tag, params, headers: putHeaders,
      description: "If-Match makes it a compare-and-set, If-None-Match: * a create; a failed condition is 412 with the current version.",
      body: { schema: bytesSchema, contentType: "application/octet-stream", description: `The value, at most ${valueBytesMax} bytes.` },
      answers: { 200: { description: "Written: the key's new version and the group that owns it.", schema: writeAnswer, headers: { etag: "The new version." } } },
      problems: [...writeProblems, "valueTooLarge"],
    },
    delete: {
      summary: `Delete a key${where}`, tag, params, headers: deleteHeaders,
      answers: { 200: { description: "Deleted (deleted is false when it was absent).", schema: deleteAnswer } },
      problems: writeProblems,
    },
    scan: {
      summary: `Scan keys in order${where}`, tag, query: scanQuery, ...(keyspace === "shared" ? {} : { params: tenantParams }),
      answers: { 200: { description: "One page; pass cursor back for the next.", schema: scanAnswer } },
      problems: [...tenantProblems, "badQuery", "badLimit", "badConsistency", "unavailable"],
    },
  };
}

/** The key a key route addresses, parsed by the path schema its description names (shared or tenant). */
function keyOf(request: Request, keyspace: Keyspace): string {
  return keyspace.kind === "shared" ? pathParametersOf(request, keyParams).key : pathParametersOf(request, tenantKeyParams).key;
}

function describeKey(key: string): string {
  return `key ${JSON.stringify(key)}`;
}

function kvHandlers({ cluster, valueBytesMax }: KvRouteOptions) {
  return {
    async get(request: Request, keyspace: Keyspace): Promise<Response> {
      const key = keyOf(request, keyspace);
      const consistency = queryParametersOf(request, readQuery).consistency ?? "linearizable";
      const result = await cluster.get(keyspace, key, consistency);
      if (!result.ok) throw problemOfClusterError(result.error, describeKey(key));
      const { value, version, group } = result.value;
      return new Response(value, {
        headers: { "content-type": "application/octet-stream", etag: `"${version}"`, "x-edgeraft-group": group },
      });
    },

    async put(request: Request, keyspace: Keyspace): Promise<Response> {
      const key = keyOf(request, keyspace);
      const condition = writeConditionOf(request.headers, true);
      const value = await readBodyLimited(request, { bytesMax: valueBytesMax, code: "valueTooLarge" });
      const result = await cluster.put(keyspace, key, value, condition);
      if (!result.ok) throw problemOfClusterError(result.error, describeKey(key));
      const { version, group } = result.value;
      return jsonResponse({ key: result.value.key, version, group }, 200, { etag: `"${version}"`, "x-edgeraft-group": group });
    },

    async delete(request: Request, keyspace: Keyspace): Promise<Response> {
      const key = keyOf(request, keyspace);
      const condition = writeConditionOf(request.headers, false);
      const result = await cluster.delete(keyspace, key, condition);
      if (!result.ok) throw problemOfClusterError(result.error, describeKey(key));
      const { version, group, deleted } = result.value;
      return jsonResponse({ key: result.value.key, version, group, deleted }, 200, { "x-edgeraft-group": group });
    },

    async scan(request: Request, keyspace: Keyspace): Promise<Response> {
      const query = queryParametersOf(request, scanQuery);
      const scanRequest = {
        limit: query.limit ?? scanLimitDefault,
        ...optional("prefix", query.prefix),
        ...optional("start", query.start),
        ...optional("end", query.end),
        ...optional("cursor", query.cursor),
      };
      const result = await cluster.scan(keyspace, scanRequest, query.consistency ?? "linearizable");
      if (!result.ok) throw problemOfClusterError(result.error, "the scan");
      const entries = result.value.entries.map((entry) => ({ key: entry.key, version: entry.version, ...valueViewOf(entry.value) }));
      return jsonResponse({ entries, ...optional("cursor", result.value.cursor) });
    },
  };
}

/** `{ [name]: value }` when value is defined, `{}` otherwise (keeps absent fields absent, not undefined). */
function optional<Name extends string, Value>(name: Name, value: Value | undefined): { [key in Name]?: Value } {
  return value === undefined ? {} : ({ [name]: value } as { [key in Name]?: Value });
}
