/**
 * Proves that on the Deno host a new group is led after one election: groups created one after
 * another (POST /v1/groups, each written to at once) and a tenant group created by its first use
 * are each led by replica 1 in term 2, the term of the first election (a group is bootstrapped at
 * term 1). Before, the create saga's first write met replica 1 while it was a candidate, or a
 * follower that had voted but not heard from the leader yet, and made it campaign again: most new
 * groups ended at term 3 or later. Not a matter of timing: with 100 ms ticks a follower's own timer
 * fires only after 10 runs of its node's ticker (a stalled node fires none meanwhile), while
 * replica 1's campaign follows the bootstraps at once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
/** Groups created in a row (entering through the three nodes in turn). */
const groupCount = 9;

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-first-election-"));
  cluster = await startDenoCluster({ dataDirectory, tickMs: 100 });
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
});

/** The group's leader and term, as GET /v1/groups/{name} reports them. */
async function leadership(base: string, group: string): Promise<{ leader: number; term: number }> {
  const response = await fetch(`${base}/v1/groups/${group}`, { headers });
  expect(response.status).toBe(200);
  const { health } = (await response.json()) as { health: { leader: number; term: number } };
  return { leader: health.leader, term: health.term };
}

describe("a new group on the Deno host", () => {
  it("is led by replica 1 after its first election, also when written to at once", async () => {
    const groups = Array.from({ length: groupCount }, (_, i) => `first-election-${i}`);
    for (const [i, group] of groups.entries()) {
      const base = cluster.urls[i % 3]!;
      const created = await fetch(`${base}/v1/groups`, { method: "POST", headers, body: JSON.stringify({ name: group, prefix: `${group}/` }) });
      expect(created.status).toBe(201);
      expect((await fetch(`${base}/v1/kv/${group}/k`, { method: "PUT", body: "v", headers })).status).toBe(200);
    }
    const tenantWrite = await fetch(`${cluster.urls[1]}/v1/tenants/firstelection/kv/k`, { method: "PUT", body: "v", headers });
    expect(tenantWrite.status).toBe(200);
    const seen = [];
    for (const group of [...groups, "tenant-firstelection"]) seen.push({ group, ...(await leadership(cluster.urls[0]!, group)) });
    expect(seen).toEqual([...groups, "tenant-firstelection"].map((group) => ({ group, leader: 1, term: 2 })));
  });
});
