/**
 * Proves that on the Deno host a leadership transfer an operator asked for holds: each node hands
 * leadership back to a group's replica 1 after a failover (its balancer runs after every request
 * it serves for a group it leads and every 3 s), but a leader that was handed the role by
 * POST /v1/groups/{name}/transfer-leader keeps it while clients keep writing through every node.
 */
import { describe, expect, inject, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const group = "deno-transfer";
const json = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };

describe("a leadership transfer on the Deno host", () => {
  it("keeps the leader it chose through the node's balancer rounds while clients write", async () => {
    const urls = inject("denoNodeUrls");
    const client = new EdgeraftClient({ url: urls[1]!, token: e2eAdminToken });
    await client.groups.create({ name: group, prefix: `${group}/` });
    await client.put(`${group}/k`, "first");
    expect((await client.groups.get(group)).health.leader).toBe(1);
    const moved = await fetch(`${urls[1]}/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: JSON.stringify({ to: 2 }) });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ leader: 2, transferred: true });
    // Writes through every node for longer than the balancer's period: each one served by the
    // leader's node is a chance for it to hand leadership back.
    for (let round = 0; round < 40; round++) {
      const status = (await fetch(`${urls[round % 3]}/v1/kv/${group}/k`, { method: "PUT", body: `v${round}`, headers: json })).status;
      expect(status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await client.groups.get(group)).health.leader).toBe(2);
    await client.groups.remove(group);
  });
});
