/**
 * Fault injection at /v1/faults (admin only), registered only when the host passes a FaultControl
 * (the Worker does so only with FAULTS=on); otherwise these paths are 404 like any unknown route.
 * POST injects one fault, GET lists those in force, DELETE heals every group.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { FaultControl, FaultSpec } from "./cluster.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "./body.ts";
import { groupPathNamePattern } from "./parse.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { objectAnswer } from "./openapi/schemas.ts";

/** Longest injected delay, in milliseconds. */
export const faultDelayMsMax = 60_000;

const groupSchema = z.string().regex(groupPathNamePattern, `group names match ${groupPathNamePattern.source}`);
const replicaSchema = z.number().int().min(0);
const fractionSchema = z.number().min(0).max(1);

/** The JSON body of POST /v1/faults: one FaultSpec. */
export const faultBodySchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("isolate"), group: groupSchema, replica: replicaSchema }),
  z.strictObject({ kind: z.literal("drop"), group: groupSchema, fraction: fractionSchema }),
  z.strictObject({ kind: z.literal("delay"), group: groupSchema, fraction: fractionSchema, delayMs: z.number().int().min(0).max(faultDelayMsMax) }),
  z.strictObject({ kind: z.literal("crash"), group: groupSchema, replica: replicaSchema }),
  z.strictObject({ kind: z.literal("haltMove"), before: z.enum(["freeze", "copy", "release", "acquire", "route"]) }),
  z.strictObject({ kind: z.literal("haltTxn"), after: z.enum(["prepare", "decide"]) }),
  z.strictObject({ kind: z.literal("heal"), group: groupSchema.optional() }),
]);

/** Registers the fault routes on `app`, served by `faults`. */
export function registerFaultRoutes(app: Hono, guards: Guards, faults: FaultControl): void {
  addRoute(app, "/v1/faults", {
    GET: guards.admin(async () => {
      const result = await faults.list();
      if (!result.ok) throw problemOfClusterError(result.error, "the fault list");
      return jsonResponse({ faults: result.value });
    }),
    POST: guards.admin(async (request) => {
      const body = parseWithSchema(faultBodySchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" }));
      return inject(faults, body);
    }),
    DELETE: guards.admin(() => inject(faults, { kind: "heal" })),
  }, {
    GET: { summary: "List the faults in force (FAULTS=on only)", tag: "faults", answers: { 200: { description: "The faults.", schema: z.object({ faults: z.array(objectAnswer) }) } }, problems: ["unavailable"] },
    POST: {
      summary: "Inject a fault (FAULTS=on only)", tag: "faults", body: { schema: faultBodySchema },
      answers: { 200: { description: "Applied.", schema: z.object({ applied: z.literal(true), fault: objectAnswer }) } },
      problems: ["badJson", "badRequest", "bodyTooLarge", "groupNotFound", "unavailable"],
    },
    DELETE: { summary: "Heal every fault (FAULTS=on only)", tag: "faults", answers: { 200: { description: "Healed.", schema: z.object({ applied: z.literal(true), fault: objectAnswer }) } }, problems: ["unavailable"] },
  });
}

async function inject(faults: FaultControl, fault: FaultSpec): Promise<Response> {
  const result = await faults.inject(fault);
  if (!result.ok) throw problemOfClusterError(result.error, "the fault");
  return jsonResponse({ applied: true, fault });
}
