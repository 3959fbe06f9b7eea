/**
 * Schemas of what the API answers, and of the precondition headers parse.ts reads (stating its
 * rules). Path and query parameters are validated by their schemas in ../parameters.ts, and
 * request bodies by the very schemas the handlers parse with, which live beside the handlers.
 */
import { z } from "zod";

/** Precondition headers of PUT /v1/kv/{key}. */
export const putHeaders = z.object({
  "if-match": z.string().regex(/^"[0-9]+"$/).optional().describe('Compare-and-set: write only if the current version is this one, like "42".'),
  "if-none-match": z.literal("*").optional().describe("Create only: write only if the key is absent."),
});
/** Precondition headers of DELETE /v1/kv/{key}. */
export const deleteHeaders = z.object({ "if-match": putHeaders.shape["if-match"] });

/** The answer of a PUT. */
export const writeAnswer = z.object({ key: z.string(), version: z.number().int(), group: z.string() });
/** The answer of a DELETE. */
export const deleteAnswer = writeAnswer.extend({ deleted: z.boolean() });
/** A value in JSON answers: text when it is UTF-8, base64 otherwise. */
const valueView = { value: z.string().optional(), valueBase64: z.string().optional() };
/** A page of a scan. */
export const scanAnswer = z.object({
  entries: z.array(z.object({ key: z.string(), version: z.number().int(), ...valueView })),
  cursor: z.string().optional().describe("Absent on the last page."),
});
/** The answer of a batch: one result per operation, in request order. */
export const batchAnswer = z.object({
  results: z.array(z.object({
    op: z.enum(["get", "put", "delete"]), key: z.string(), status: z.number().int(),
    group: z.string().optional(), version: z.number().int().optional(), deleted: z.boolean().optional(), ...valueView,
    code: z.string().optional(), detail: z.string().optional(),
  }).catchall(z.unknown())),
});

const range = z.object({ start: z.string(), end: z.string().optional() });
/** A group as the API shows it. */
export const groupAnswer = z.object({
  name: z.string(),
  state: z.enum(["creating", "active", "deleting"]),
  owns: z.union([z.object({ prefix: z.string() }), range, z.object({ tenant: z.string() }), z.object({ default: z.literal(true) })]),
  replicas: z.array(z.object({ id: z.number().int(), location: z.string() }).catchall(z.unknown())),
  epoch: z.number().int(),
  ranges: z.array(range),
  auto: z.literal(true).optional(),
  hashed: z.literal(true).optional(),
}).catchall(z.unknown()).meta({ id: "Group" });
/** The group list. */
export const groupListAnswer = z.object({ groups: z.array(groupAnswer) });
/** The answer of a range move. */
export const moveAnswer = range.extend({ to: z.string(), moves: z.array(range.extend({ to: z.string(), moved: z.number().int() })) });

const replicaHealth = z.object({
  id: z.number().int(), node: z.number().int().optional(), reachable: z.boolean(), role: z.string().optional(), commit: z.number().int().optional(),
  applied: z.number().int().optional(), quiesced: z.boolean().optional(),
}).catchall(z.unknown());
/** The answer of GET /v1/health (200 healthy, 503 not). */
export const healthAnswer = z.object({
  healthy: z.boolean(),
  counts: z.object({ total: z.number().int(), withLeader: z.number().int(), healthy: z.number().int(), lagging: z.number().int(), quiesced: z.number().int() }).catchall(z.unknown()),
  lagEntriesMax: z.number().int(),
  lagSecondsMax: z.number(),
  reasons: z.array(z.object({ code: z.string(), group: z.string(), replica: z.number().int().optional(), detail: z.string() }).catchall(z.unknown())),
  groups: z.array(z.object({ name: z.string(), leader: z.number().int(), term: z.number().int(), healthy: z.boolean(), replicas: z.array(replicaHealth) }).catchall(z.unknown())),
}).catchall(z.unknown()).meta({ id: "Health" });

/** Any JSON object (answers whose shape is documented in docs/api.md). */
export const objectAnswer = z.object({}).catchall(z.unknown());
