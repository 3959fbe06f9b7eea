/**
 * POST /v1/txn and POST /v1/tenants/{tenant}/txn: an atomic transaction over keys in any groups.
 * The body is validated whole first (400 for a malformed one, 413 past the limits); then every
 * check holds and every write applies, or nothing does (409 `txnConflict` naming the keys).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { keyProblemOf } from "../kv/index.ts";
import { txnKeysMax, txnValueBytesMax } from "../shared/limits.ts";
import type { Cluster, Keyspace, TxnOutcome, TxnRequest } from "./cluster.ts";
import { parseWithSchema, putValueOf, readJson } from "./body.ts";
import { valueViewOf } from "./encoding.ts";
import { problem, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import type { OperationDoc } from "./openapi/operation.ts";
import { tenantParams } from "./parameters.ts";

/** The 200 answer of a transaction, for the API description. */
const txnAnswer = z.object({
  committed: z.literal(true),
  reads: z.array(z.object({ key: z.string(), found: z.boolean(), value: z.string().nullable().optional(), valueBase64: z.string().optional(), version: z.number().int() })),
  versions: z.record(z.string(), z.number().int()),
});

/** Largest transaction body, in bytes (values travel as text or base64, so this leaves room over txnValueBytesMax). */
export const txnBodyBytesMax = 2 * 1024 * 1024;

const keySchema = z.string().superRefine((key, context) => {
  const reason = keyProblemOf(key);
  if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
});

const checkSchema = z.union([
  z.strictObject({ key: keySchema, version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ key: keySchema, absent: z.literal(true) }),
]);

const writeSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("put"), key: keySchema, value: z.string().optional(), valueBase64: z.string().optional() }),
  z.strictObject({ op: z.literal("delete"), key: keySchema }),
]);

/** The JSON body of a transaction. */
export const txnBodySchema = z.strictObject({
  reads: z.array(keySchema).max(txnKeysMax * 4).optional(),
  checks: z.array(checkSchema).max(txnKeysMax * 4).optional(),
  writes: z.array(writeSchema).max(txnKeysMax * 4).optional(),
});

/** Registers the transaction route for the shared keyspace and for tenants. */
export function registerTxnRoutes(app: Hono, guards: Guards, options: { readonly cluster: Cluster; readonly valueBytesMax: number }): void {
  const handler = guards.data((request, keyspace) => runTxn(request, keyspace, options));
  const doc: OperationDoc = {
    summary: "Run an atomic transaction across groups",
    description: "Every check holds and every write applies, or nothing does (409 txnConflict naming the keys). A transaction with only reads is a consistent snapshot across groups.",
    tag: "keys",
    body: { schema: txnBodySchema },
    answers: { 200: { description: "Committed: the reads (before the transaction's writes) and the version each write took.", schema: txnAnswer } },
    problems: ["badTenant", "badJson", "badRequest", "txnConflict", "valueTooLarge", "bodyTooLarge", "txnTooLarge", "unavailable", "outcomeUnknown"],
  };
  addRoute(app, "/v1/txn", { POST: handler }, { POST: doc });
  addRoute(app, "/v1/tenants/:tenant/txn", { POST: handler }, { POST: { ...doc, summary: "Run an atomic transaction in the tenant's keyspace", tag: "tenants", params: tenantParams } });
}

async function runTxn(request: Request, keyspace: Keyspace, options: { readonly cluster: Cluster; readonly valueBytesMax: number }): Promise<Response> {
  const body = parseWithSchema(txnBodySchema, await readJson(request, { bytesMax: txnBodyBytesMax, code: "bodyTooLarge" }));
  const txn = txnOf(body, options.valueBytesMax);
  const result = await options.cluster.txn(keyspace, txn);
  if (!result.ok) throw problemOfClusterError(result.error, "the transaction");
  return jsonResponse(viewOf(result.value));
}

/** The cluster transaction of a valid body, or a thrown 400/413. */
export function txnOf(body: z.output<typeof txnBodySchema>, valueBytesMax: number): TxnRequest {
  const reads = body.reads ?? [];
  const checks = (body.checks ?? []).map((check) => ({ key: check.key, version: "absent" in check ? 0 : check.version }));
  let valueBytes = 0;
  const writes = (body.writes ?? []).map((write, index): TxnRequest["writes"][number] => {
    if (write.op === "delete") return { op: "delete", key: write.key };
    const value = putValueOf(write, `writes.${index}`);
    if (value.byteLength > valueBytesMax) throw problem("valueTooLarge", `writes.${index}: the value is ${value.byteLength} bytes, more than ${valueBytesMax}`, { extensions: { bytesMax: valueBytesMax } });
    valueBytes += value.byteLength;
    return { op: "put", key: write.key, value };
  });
  const keys = new Set([...reads, ...checks.map((check) => check.key), ...writes.map((write) => write.key)]);
  if (keys.size === 0) throw problem("badRequest", "a transaction needs at least one read, check or write");
  if (keys.size > txnKeysMax) throw problem("txnTooLarge", `the transaction touches ${keys.size} keys, more than ${txnKeysMax}`, { extensions: { keysMax: txnKeysMax } });
  if (valueBytes > txnValueBytesMax) throw problem("txnTooLarge", `the transaction writes ${valueBytes} value bytes, more than ${txnValueBytesMax}`, { extensions: { bytesMax: txnValueBytesMax } });
  const duplicate = firstDuplicate(writes.map((write) => write.key)) ?? firstDuplicate(checks.map((check) => check.key)) ?? firstDuplicate(reads);
  if (duplicate !== undefined) throw problem("badRequest", `key ${JSON.stringify(duplicate)} appears twice in the same list`);
  return { reads, checks, writes };
}

function firstDuplicate(keys: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

/** The 200 body: reads in request order (absent keys: found false, version 0), the version each write took. */
function viewOf(outcome: TxnOutcome): Record<string, unknown> {
  const reads = outcome.reads.map((read) => (read.found && read.value !== undefined ? { key: read.key, found: true, ...valueViewOf(read.value), version: read.version } : { key: read.key, found: false, version: 0 }));
  return { committed: true, reads, versions: Object.fromEntries(outcome.versions.map((entry) => [entry.key, entry.version])) };
}
