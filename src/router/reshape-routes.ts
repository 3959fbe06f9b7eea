/**
 * The routes that reshape the shared keyspace (admin only): POST /v1/groups/{name}/split,
 * POST /v1/groups/{name}/merge and POST /v1/ranges/move. Each runs one or more move sagas and
 * answers when they finished; a failure before a saga's commit point rolls it back cleanly.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { compareKeys, keyProblemOf } from "../kv/index.ts";
import type { Cluster } from "./cluster.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "./body.ts";
import { groupNameOfPath, groupNamePattern, reservedGroupNamePrefixes } from "./group-routes.ts";
import { problem, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse, type Guards } from "./route.ts";
import { groupAnswer, moveAnswer } from "./openapi/schemas.ts";
import { groupParams } from "./parameters.ts";

const reshapeProblems = ["badJson", "badRequest", "bodyTooLarge", "groupNotFound", "groupExists", "unavailable", "outcomeUnknown"] as const;

const keySchema = z.string().superRefine((key, context) => {
  const reason = keyProblemOf(key);
  if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
});
const groupNameSchema = z.string().regex(groupNamePattern, `group names match ${groupNamePattern.source}`);

/** The JSON body of POST /v1/groups/{name}/split: where to cut (default: the median key) and the new group's name. */
export const splitBodySchema = z.strictObject({ at: keySchema.optional(), name: groupNameSchema.optional() });
/** The JSON body of POST /v1/groups/{name}/merge. */
export const mergeBodySchema = z.strictObject({ with: groupNameSchema });
/** The JSON body of POST /v1/ranges/move: [start, end) goes to group `to`; no end = to the end of the keyspace. */
export const moveBodySchema = z.strictObject({ start: z.union([z.literal(""), keySchema]), end: keySchema.optional(), to: groupNameSchema });

/** Registers the split, merge and move routes. */
export function registerReshapeRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/groups/:name/split", {
    POST: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      const body = parseWithSchema(splitBodySchema, await readBody(request));
      const reserved = reservedGroupNamePrefixes.find((prefix) => body.name?.startsWith(prefix));
      if (reserved !== undefined) throw problem("badRequest", `name: group names starting with "${reserved}" are reserved`);
      const result = await cluster.splitGroup(name, { ...(body.at === undefined ? {} : { at: body.at }), ...(body.name === undefined ? {} : { newName: body.name }) });
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value, 201, { location: `/v1/groups/${encodeURIComponent(result.value.name)}` });
    }),
  }, {
    POST: {
      summary: "Split a group at a key (default: its median) into a new group", tag: "groups", params: groupParams, body: { schema: splitBodySchema },
      description: "Safe to retry: asked again with the same key and name, it finishes what is left and answers the group.",
      answers: { 201: { description: "The new group, owning the upper part.", schema: groupAnswer, headers: { location: "The new group's URL." } } },
      problems: reshapeProblems,
    },
  });
  addRoute(app, "/v1/groups/:name/merge", {
    POST: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      const body = parseWithSchema(mergeBodySchema, await readBody(request));
      const result = await cluster.mergeGroups(name, body.with);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name} or ${body.with}`);
      return jsonResponse(result.value);
    }),
  }, {
    POST: {
      summary: "Merge an adjacent group into this one", tag: "groups", params: groupParams, body: { schema: mergeBodySchema },
      answers: { 200: { description: "The merged group.", schema: groupAnswer } }, problems: reshapeProblems,
    },
  });
  addRoute(app, "/v1/ranges/move", {
    POST: guards.admin(async (request) => {
      const body = parseWithSchema(moveBodySchema, await readBody(request));
      if (body.end !== undefined && compareKeys(body.start, body.end) >= 0) throw problem("badRequest", "end: the range [start, end) is empty; end must sort after start");
      const span = body.end === undefined ? { start: body.start } : { start: body.start, end: body.end };
      const result = await cluster.moveRange(span, body.to);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${body.to}`);
      return jsonResponse({ ...span, to: body.to, moves: result.value.moves });
    }),
  }, {
    POST: {
      summary: "Move the range [start, end) to a group", tag: "groups", body: { schema: moveBodySchema },
      answers: { 200: { description: "The moves done, with how many records travelled.", schema: moveAnswer } }, problems: reshapeProblems,
    },
  });
}

async function readBody(request: Request): Promise<unknown> {
  return readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" });
}
