/**
 * Proves the HTTP contract of POST /v1/groups/{name}/transfer-leader over the in-memory cluster:
 * the body is `{"to": id}` or `{}`, the answer names the leader before and after, an unknown
 * group or replica is a 404 with its own code, a malformed body a 400, and only the admin may ask.
 */
import { describe, expect, it } from "vitest";
import { acmeToken, jsonOf, setup } from "./harness.ts";

const json = { "content-type": "application/json" };

describe("POST /v1/groups/{name}/transfer-leader", () => {
  it("hands leadership to the replica asked for and says who led before", async () => {
    const { send, cluster } = setup();
    const response = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body: JSON.stringify({ to: 2 }) });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ group: "default", previous: 1, leader: 2, term: 1, transferred: true });
    expect(cluster.calls).toContain("transferLeader default 2");
  });

  it("with {} asks the cluster for the best candidate", async () => {
    const { send, cluster } = setup();
    const response = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body: "{}" });
    expect(response.status).toBe(200);
    expect(cluster.calls).toContain("transferLeader default best");
  });

  it("answers 404 replicaNotFound for a replica the group does not have, and 404 groupNotFound for no group", async () => {
    const { send } = setup();
    const replica = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body: JSON.stringify({ to: 7 }) });
    expect(replica.status).toBe(404);
    expect(await jsonOf(replica)).toMatchObject({ code: "replicaNotFound" });
    const group = await send("POST", "/v1/groups/nope/transfer-leader", { headers: json, body: "{}" });
    expect(group.status).toBe(404);
    expect(await jsonOf(group)).toMatchObject({ code: "groupNotFound" });
  });

  it("refuses malformed bodies with 400 and tenants with 403", async () => {
    const { send } = setup();
    for (const body of ['{"to":"2"}', '{"to":0}', '{"to":1.5}', '{"to":2,"extra":1}', "[]"]) {
      const response = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body });
      expect(response.status, body).toBe(400);
    }
    const notJson = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body: "{" });
    expect(await jsonOf(notJson)).toMatchObject({ code: "badJson" });
    const tenant = await send("POST", "/v1/groups/default/transfer-leader", { headers: json, body: "{}", token: acmeToken });
    expect(tenant.status).toBe(403);
    expect((await send("GET", "/v1/groups/default/transfer-leader")).status).toBe(405);
  });
});
