/**
 * The group routes (admin only): list and create at /v1/groups, inspect and remove at
 * /v1/groups/{name}. A group owns a prefix or a half-open range [start, end) of the shared
 * keyspace; the default group owns the rest and cannot be removed.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { compareKeys, keyProblemOf } from "../kv/index.ts";
import { replicasMax } from "../shared/limits.ts";
import type { Cluster, GroupSpec } from "./cluster.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "./body.ts";
import { problem, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { groupAnswer, groupListAnswer } from "./openapi/schemas.ts";
import { groupParams } from "./parameters.ts";
import { pathParametersOf } from "./route-input.ts";

/** Names a new group may have. */
export const groupNamePattern = /^[a-z][a-z0-9-]{0,62}$/;
/** Name prefixes kept for the system: tenant groups and the metadata group. */
export const reservedGroupNamePrefixes: readonly string[] = ["tenant-", "meta"];
/** The group that owns every key no other group owns; it cannot be removed. */
export const defaultGroupName = "default";
/** Replicas of a new group when the request names no count. */
export const replicasDefault = 3;
/** Location hints: short lowercase names like wnam, weur, apac. */
export const locationPattern = /^[a-z][a-z0-9-]{0,31}$/;

const boundSchema = z.string().superRefine((bound, context) => {
  const reason = keyProblemOf(bound);
  if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
});

/** The JSON body of POST /v1/groups. */
export const groupBodySchema = z.strictObject({
  name: z.string().regex(groupNamePattern, `group names match ${groupNamePattern.source}`),
  prefix: boundSchema.optional(),
  start: boundSchema.optional(),
  end: boundSchema.optional(),
  replicas: z.number().int().min(1).max(replicasMax).optional(),
  locations: z.array(z.string().regex(locationPattern, `locations match ${locationPattern.source}`)).min(1).max(replicasMax).optional(),
});

/** Registers the group routes. */
export function registerGroupRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/groups", {
    GET: guards.admin(async () => {
      const result = await cluster.listGroups();
      if (!result.ok) throw problemOfClusterError(result.error, "the group list");
      return jsonResponse({ groups: result.value });
    }),
    POST: guards.admin(async (request) => {
      const spec = groupSpecOf(parseWithSchema(groupBodySchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" })));
      const result = await cluster.createGroup(spec);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${spec.name}`);
      return jsonResponse(result.value, 201, { location: `/v1/groups/${encodeURIComponent(result.value.name)}` });
    }),
  }, {
    GET: { summary: "List groups", tag: "groups", answers: { 200: { description: "Every group.", schema: groupListAnswer } }, problems: ["unavailable"] },
    POST: {
      summary: "Create a group owning a prefix or a range", tag: "groups",
      description: "Keys already in the prefix or range move into the new group, live.",
      body: { schema: groupBodySchema },
      answers: { 201: { description: "The new group.", schema: groupAnswer, headers: { location: "The group's URL." } } },
      problems: ["badJson", "badRequest", "bodyTooLarge", "groupExists", "tooManyReplicas", "unavailable"],
    },
  });
  addRoute(app, "/v1/groups/:name", {
    GET: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      const result = await cluster.getGroup(name);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value);
    }),
    DELETE: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      if (name === defaultGroupName) throw problem("groupProtected", "the default group owns every unassigned key and cannot be removed");
      const result = await cluster.deleteGroup(name);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse({ name, deleted: true });
    }),
  }, {
    GET: { summary: "Inspect a group (asks its replicas, unless their last reports say it is quiet)", tag: "groups", params: groupParams, answers: { 200: { description: "The group with its replicas' state.", schema: groupAnswer } }, problems: ["groupNotFound", "unavailable"] },
    DELETE: {
      summary: "Remove a group", tag: "groups", params: groupParams,
      description: "Its ranges (and keys) go back to the default group, which cannot be removed.",
      answers: { 200: { description: "Removed.", schema: z.object({ name: z.string(), deleted: z.literal(true) }) } },
      problems: ["groupNotFound", "groupProtected", "unavailable"],
    },
  });
}

/** The group named in the path; a name no group can have is a 404 (no such group), not a 400. */
export function groupNameOfPath(request: Request): string {
  return pathParametersOf(request, groupParams).name;
}

/** The cluster's GroupSpec for a schema-checked body, or a thrown 400 for rules across fields. */
function groupSpecOf(body: z.output<typeof groupBodySchema>): GroupSpec {
  const reserved = reservedGroupNamePrefixes.find((prefix) => body.name.startsWith(prefix));
  if (reserved !== undefined) throw problem("badRequest", `name: group names starting with "${reserved}" are reserved`);
  if (body.locations !== undefined && new Set(body.locations).size !== body.locations.length) {
    throw problem("badRequest", "locations: each location may appear once");
  }
  const spec = { name: body.name, owns: ownedKeysOf(body), replicas: body.replicas ?? replicasDefault };
  return body.locations === undefined ? spec : { ...spec, locations: body.locations };
}

/** What the group owns: a prefix, or a range from start to an optional end; exactly one of them. */
function ownedKeysOf(body: { prefix?: string | undefined; start?: string | undefined; end?: string | undefined }): GroupSpec["owns"] {
  const exactlyOne = "give exactly one of prefix (a prefix group) or start (a range group, with an optional end)";
  if (body.prefix !== undefined) {
    if (body.start !== undefined) throw problem("badRequest", exactlyOne);
    if (body.end !== undefined) throw problem("badRequest", "end: only a range group (start) has an end");
    return { prefix: body.prefix };
  }
  if (body.start === undefined) throw problem("badRequest", exactlyOne);
  if (body.end === undefined) return { start: body.start };
  if (compareKeys(body.start, body.end) >= 0) throw problem("badRequest", "end: the range [start, end) is empty; end must sort after start");
  return { start: body.start, end: body.end };
}
