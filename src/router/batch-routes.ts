/**
 * POST /v1/batch and POST /v1/tenants/{tenant}/batch: many independent operations in one request.
 * The whole request is validated first (a bad operation makes the request a 400 or 413 and nothing
 * runs); then every operation runs and gets its own result, in request order, with status 200 for
 * the request even when some operations fail.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { keyProblemOf } from "../kv/index.ts";
import { assert } from "../shared/assert.ts";
import { batchOperationsMax } from "../shared/limits.ts";
import type { BatchRequestOperation, BatchResultItem, Cluster, Keyspace, WriteCondition } from "./cluster.ts";
import { batchBodyBytesMax, parseWithSchema, putValueOf, readJson } from "./body.ts";
import { valueViewOf } from "./encoding.ts";
import { problem, problemCatalog, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import type { OperationDoc } from "./openapi/operation.ts";
import { batchAnswer } from "./openapi/schemas.ts";
import { tenantParams } from "./parameters.ts";

const keySchema = z.string().superRefine((key, context) => {
  const reason = keyProblemOf(key);
  if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
});
const versionSchema = z.number().int().min(0);

/** One operation as the JSON body spells it. */
const operationSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("get"), key: keySchema }),
  z.strictObject({
    op: z.literal("put"),
    key: keySchema,
    value: z.string().optional(),
    valueBase64: z.string().optional(),
    ifMatch: versionSchema.optional(),
    ifNoneMatch: z.literal("*").optional(),
  }),
  z.strictObject({ op: z.literal("delete"), key: keySchema, ifMatch: versionSchema.optional() }),
]);

/** The JSON body of a batch request. */
export const batchBodySchema = z.strictObject({
  operations: z.array(operationSchema).min(1).max(batchOperationsMax),
});

type OperationBody = z.output<typeof operationSchema>;

/** What the batch routes need. */
export interface BatchRouteOptions {
  readonly cluster: Cluster;
  /** Largest value one put may carry, in bytes. */
  readonly valueBytesMax: number;
}

/** Registers the batch route for the shared keyspace and for tenants. */
export function registerBatchRoutes(app: Hono, guards: Guards, options: BatchRouteOptions): void {
  const handler = guards.data((request, keyspace) => runBatch(request, keyspace, options));
  const doc: OperationDoc = {
    summary: "Run many independent operations",
    description: "Grouped by group and run in parallel; each operation gets its own result. A bad operation makes the whole request a 400 and nothing runs.",
    tag: "keys",
    body: { schema: batchBodySchema },
    answers: { 200: { description: "One result per operation, in request order.", schema: batchAnswer } },
    problems: ["badTenant", "badJson", "badRequest", "valueTooLarge", "bodyTooLarge", "unavailable"],
  };
  addRoute(app, "/v1/batch", { POST: handler }, { POST: doc });
  addRoute(app, "/v1/tenants/:tenant/batch", { POST: handler }, { POST: { ...doc, summary: "Run many independent operations in the tenant's keyspace", tag: "tenants", params: tenantParams } });
}

async function runBatch(request: Request, keyspace: Keyspace, options: BatchRouteOptions): Promise<Response> {
  const body = parseWithSchema(batchBodySchema, await readJson(request, { bytesMax: batchBodyBytesMax, code: "bodyTooLarge" }));
  const operations = body.operations.map((operation, index) => operationOf(operation, index, options.valueBytesMax));
  const result = await options.cluster.batch(keyspace, operations);
  if (!result.ok) throw problemOfClusterError(result.error, "the batch");
  assert(result.value.length === operations.length, "the cluster answers one result per batch operation");
  const results = result.value.map((item, index) => resultView(item, operations[index]!));
  return jsonResponse({ results });
}

/** The cluster operation for body operation number `index`, or a thrown 400/413 naming it. */
function operationOf(operation: OperationBody, index: number, valueBytesMax: number): BatchRequestOperation {
  const where = `operations.${index}`;
  if (operation.op === "get") return { op: "get", key: operation.key };
  if (operation.op === "delete") {
    return operation.ifMatch === undefined ? { op: "delete", key: operation.key } : { op: "delete", key: operation.key, condition: { ifVersion: operation.ifMatch } };
  }
  if (operation.ifMatch !== undefined && operation.ifNoneMatch !== undefined) {
    throw problem("badRequest", `${where}: give ifMatch or ifNoneMatch, not both`);
  }
  const value = putValueOf(operation, where);
  if (value.byteLength > valueBytesMax) {
    throw problem("valueTooLarge", `${where}: the value is ${value.byteLength} bytes, more than ${valueBytesMax}`, { extensions: { bytesMax: valueBytesMax } });
  }
  const condition: WriteCondition | undefined =
    operation.ifMatch !== undefined ? { ifVersion: operation.ifMatch } : operation.ifNoneMatch !== undefined ? { ifAbsent: true } : undefined;
  return condition === undefined ? { op: "put", key: operation.key, value } : { op: "put", key: operation.key, value, condition };
}

/** How one result shows in the response: `status` always; the value for a get; `code` and `detail` on failure. */
function resultView(item: BatchResultItem, operation: BatchRequestOperation): Record<string, unknown> {
  const head = { op: operation.op, key: item.key };
  if (!item.ok) {
    const failure = problemOfClusterError(item.error, `key ${JSON.stringify(item.key)}`);
    return { ...head, ...failure.extensions, status: problemCatalog[failure.code].status, code: failure.code, detail: failure.detail };
  }
  if (operation.op === "get") {
    if (item.found === false || item.value === undefined) {
      return { ...head, status: problemCatalog.notFound.status, code: "notFound", detail: `key ${JSON.stringify(item.key)} does not exist` };
    }
    return { ...head, status: 200, group: item.group, version: item.version, ...valueViewOf(item.value) };
  }
  if (operation.op === "delete") return { ...head, status: 200, group: item.group, version: item.version, deleted: item.found !== false };
  return { ...head, status: 200, group: item.group, version: item.version };
}
