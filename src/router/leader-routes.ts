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
import { groupParams } from "./parameters.ts";

/** The JSON body of POST /v1/groups/{name}/transfer-leader: the replica id to lead (replica ids grow past the replica count after replacements), or none for the best one. */
export const transferLeaderBodySchema = z.strictObject({ to: z.number().int().min(1).optional() });

/** The answer of POST /v1/groups/{name}/transfer-leader. */
export const leaderTransferAnswer = z.object({
  group: z.string(),
  previous: z.number().int().describe("The leader before."),
  leader: z.number().int().describe("The leader now."),
  term: z.number().int().describe("The term the leader leads in."),
  transferred: z.boolean().describe("False when the asked-for (or best) replica already led."),
}).meta({ id: "LeaderTransfer" });

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
  }, {
    POST: {
      summary: "Hand a group's leadership to a replica (default: the best one), and answer when done", tag: "groups", params: groupParams, body: { schema: transferLeaderBodySchema },
      description: "With {} the best replica by leader placement: where the group's requests come from, load and leaderships per location (docs/leaders.md).",
      answers: { 200: { description: "The leader before and after.", schema: leaderTransferAnswer } },
      problems: ["badJson", "badRequest", "bodyTooLarge", "groupNotFound", "replicaNotFound", "transferFailed", "transferTimedOut", "unavailable"],
    },
  });
}
