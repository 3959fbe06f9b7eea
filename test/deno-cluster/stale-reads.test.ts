/**
 * Proves that on a Deno cluster a `stale` GET is served by the replica on the node that took the
 * request, with no forward to the leader's node, once that replica has applied the key; a
 * linearizable read at the same node is forwarded as before. The node's stage counters
 * (`/internal/node`) count the forwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDenoCluster, testClusterSecret, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";
import { nodeOfReplica } from "../../src/hosts/deno/placement.ts";

const headers = { authorization: `Bearer ${e2eAdminToken}` };

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-stale-reads-"));
  cluster = await startDenoCluster({ dataDirectory, tickMs: 100 });
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
});

/** Replica calls node `url` forwarded to other nodes since it started. */
async function forwards(url: string): Promise<number> {
  const stats = (await (await fetch(`${url}/internal/node`, { headers: { authorization: `Bearer ${testClusterSecret}` } })).json()) as { timings: Record<string, { count: number }> };
  return stats.timings.forward?.count ?? 0;
}

describe("a stale read on the Deno host", () => {
  it("is served by the replica of the node that took it, without a forward to the leader", async () => {
    expect((await fetch(`${cluster.urls[0]}/v1/kv/stale/k`, { method: "PUT", body: "v1", headers })).status).toBe(200);
    const group = (await (await fetch(`${cluster.urls[0]}/v1/groups/default`, { headers })).json()) as { health: { leader: number } };
    const leaderNode = nodeOfReplica("default", group.health.leader, [1, 2, 3]);
    const follower = cluster.urls[leaderNode % 3]!; // a node that does not hold the leader
    // Until its replica has applied the write (a stale read may lag: the follower learns the
    // commit index with the leader's next message), the read goes on to the leader; then it is
    // answered at the node itself.
    let servedLocally = false;
    for (let tries = 0; tries < 100 && !servedLocally; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const forwarded = await forwards(follower);
      const response = await fetch(`${follower}/v1/kv/stale/k?consistency=stale`, { headers });
      expect(await response.text()).toBe("v1"); // from the leader meanwhile: never absent
      servedLocally = (await forwards(follower)) === forwarded;
    }
    expect(servedLocally).toBe(true);

    const before = await forwards(follower);
    for (let i = 0; i < 10; i++) expect((await fetch(`${follower}/v1/kv/stale/k?consistency=stale`, { headers })).status).toBe(200);
    // Forwarded, each of the 10 would count; a refresh of the node's metadata cache may add one or two.
    expect(await forwards(follower)).toBeLessThanOrEqual(before + 2);

    for (let i = 0; i < 5; i++) expect(await (await fetch(`${follower}/v1/kv/stale/k`, { headers })).text()).toBe("v1");
    expect(await forwards(follower)).toBeGreaterThanOrEqual(before + 5);
  });
});
