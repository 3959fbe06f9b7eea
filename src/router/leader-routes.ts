/**
 * POST /v1/groups/{name}/transfer-leader (admin): hands a group's leadership to the replica in
 * `to`, or with `{}` to the best candidate by leader placement (locality of the group's requests,
 * load, leaderships per location), and answers once the transfer finished or failed.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { Cluster } from "./cluster.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "./body.ts";
import { groupNameOfPath } from "./group-routes.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse, type Guards } from "./route.ts";

/** The JSON body of POST /v1/groups/{name}/transfer-leader: the replica id to lead (replica ids grow past the replica count after replacements), or none for the best one. */
export const transferLeaderBodySchema = z.strictObject({ to: z.number().int().min(1).optional() });

/** Registers the transfer-leader route. */
export function registerLeaderRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/groups/:name/transfer-leader", {
    POST: guards.admin(async (request) => {
      const name = groupNameOfPath(request);
      const body = parseWithSchema(transferLeaderBodySchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" }));
      const result = await cluster.transferLeader(name, body.to);
      if (!result.ok) throw problemOfClusterError(result.error, `group ${name}`);
      return jsonResponse(result.value);
    }),
  });
}
