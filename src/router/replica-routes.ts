/**
 * The replica routes (admin only): POST /v1/groups/{name}/replicas adds a replica,
 * DELETE /v1/groups/{name}/replicas/{id} removes one, POST /v1/groups/{name}/replicas/{id}/replace
 * does both (the new one is a caught-up voter before the old one leaves). Each answers once the
 * membership change is finished, with the group as it is then.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { Cluster } from "./cluster.ts";
import { jsonBodyBytesMax, parseWithSchema, readBodyLimited } from "./body.ts";
import { groupNameOfPath, locationPattern } from "./group-routes.ts";
import { problem, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse, type Guards } from "./route.ts";
import { groupAnswer } from "./openapi/schemas.ts";
import { groupParams, replicaParams } from "./parameters.ts";
import { pathParametersOf } from "./route-input.ts";

const replicaProblems = ["badJson", "badRequest", "bodyTooLarge", "groupNotFound", "replicaNotFound", "unavailable"] as const;
const replicaAnswer = groupAnswer.extend({ replica: z.number().int().describe("The new replica's id (never used before in this group).") });


/** The JSON body of adding or replacing a replica (optional: no body means `{}`): where to place the new replica. */
export const replicaBodySchema = z.strictObject({
  location: z.string().regex(locationPattern, `locations match ${locationPattern.source}`).optional(),
});

const bodyDoc = { schema: replicaBodySchema, description: "Optional; no body means {}." };


/** Registers the replica routes. */
export function registerReplicaRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/groups/:name/replicas", {
    POST: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      const body = parseWithSchema(replicaBodySchema, await optionalJson(request));
      const result = await cluster.addReplica(name, body.location === undefined ? {} : { location: body.location });
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value, 201, { location: `/v1/groups/${encodeURIComponent(name)}` });
    }),
  }, {
    POST: {
      summary: "Add a replica to a group (learner, caught up, then voter by joint consensus)", tag: "groups", params: groupParams, body: bodyDoc,
      answers: { 201: { description: "The group with its new replica.", schema: replicaAnswer, headers: { location: "The group's URL." } } },
      problems: [...replicaProblems, "tooManyReplicas"],
    },
  });
  addRoute(app, "/v1/groups/:name/replicas/:id", {
    DELETE: guards.admin(async (request) => {
      const { name, id } = pathParametersOf(request, replicaParams);
      const result = await cluster.removeReplica(name, id);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value);
    }),
  }, {
    DELETE: {
      summary: "Remove a replica from a group and retire it (leadership moves away first)", tag: "groups", params: replicaParams,
      answers: { 200: { description: "The group without the replica.", schema: groupAnswer } },
      problems: ["groupNotFound", "replicaNotFound", "tooFewReplicas", "unavailable"],
    },
  });
  addRoute(app, "/v1/groups/:name/replicas/:id/replace", {
    POST: guards.admin(async (request) => {
      const { name, id } = pathParametersOf(request, replicaParams);
      const body = parseWithSchema(replicaBodySchema, await optionalJson(request));
      const result = await cluster.replaceReplica(name, id, body.location === undefined ? {} : { location: body.location });
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value);
    }),
  }, {
    POST: {
      summary: "Replace a replica: a new one is added and caught up before the old one is removed and retired", tag: "groups", params: replicaParams, body: bodyDoc,
      description: "Safe to retry: sent again after a lost answer it finishes the same recorded change and answers the same new replica.",
      answers: { 200: { description: "The group with the new replica instead of the old one.", schema: replicaAnswer } },
      problems: replicaProblems,
    },
  });
}


/** The body as JSON, `{}` when there is none; a thrown 400 badJson when it is not JSON. */
async function optionalJson(request: Request): Promise<unknown> {
  const bytes = await readBodyLimited(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" });
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw problem("badJson", `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
