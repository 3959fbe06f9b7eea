/**
 * Proves a replica can be replaced while its group serves, through a leader crash: five recorded
 * clients write, read and compare-and-set three keys of a tenant group through wrangler dev while
 * POST /v1/groups/{name}/replicas/{id}/replace runs, and the fault routes crash the group's leader
 * while the change is recorded as in progress. The replace finishes (sent again if its first answer
 * was a 503, as docs/api.md says), the history passes the linearizability checker, every remaining
 * replica has applied the new membership, and the replaced replica refuses requests for good.
 */
import { describe, expect, inject, it } from "vitest";
import { HistoryRecorder } from "../../src/checker/index.ts";
import { EdgeraftClient, type GroupDetail } from "../../src/client/index.ts";
import { baseUrl, call } from "./client.ts";
import { expectLinearizableReadBack, historyClient, recordedPut } from "./history-client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const tenant = "replace-test";
const group = `tenant-${tenant}`;
const keys = ["x", "y", "z"];
const path = (key: string) => `/v1/tenants/${tenant}/kv/${key}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const client = () => new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });

async function detail(): Promise<GroupDetail> {
  return client().groups.get(group);
}

/** Replaces replica `id`, sending the request again while it answers 503 (the change stays recorded and is finished by the retry). */
async function replace(id: number): Promise<{ status: number; body: { replica?: number; replicas?: { id: number }[] }; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const response = await call(`/v1/groups/${group}/replicas/${id}/replace`, { method: "POST" });
    const body = (await response.json()) as { replica?: number; replicas?: { id: number }[] };
    if (response.status !== 503 || attempt === 5) return { status: response.status, body, attempts: attempt };
  }
}

describe("replacing a replica under concurrent writes with a leader crash in the middle", () => {
  it("keeps the history linearizable and ends with the new membership on every replica", async () => {
    const history = new HistoryRecorder();
    for (const key of keys) expect(await recordedPut({ history, process: 98, key, value: `initial-${key}`, path: path(key) })).toBe(200);
    const before = await detail();
    expect(before.replicas.map((replica) => replica.id)).toEqual([1, 2, 3]);
    const replaced = before.health.leader === 2 ? 3 : 2; // a follower is replaced; the leader is crashed meanwhile

    const failures: string[] = [];
    let running = true;
    const clients = Array.from({ length: 5 }, (_, process) =>
      historyClient({ process, history, failures, running: () => running, keyOf: (n) => keys[(process + n) % keys.length]!, pathOf: path }),
    );
    await sleep(1_500);
    const replacing = replace(replaced);
    let crashed = 0;
    for (let poll = 0; poll < 400 && crashed === 0; poll++) {
      const now = await detail();
      if (now.replicaChange?.remove === replaced && now.health.leader > 0) {
        const fault = await call("/v1/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "crash", group, replica: now.health.leader }) });
        expect(fault.status).toBeLessThan(300);
        crashed = now.health.leader;
      } else await sleep(20);
    }
    const outcome = await replacing;
    await sleep(2_000); // writes go on after the change
    running = false;
    await Promise.all(clients);

    expect(crashed, "the leader was crashed while the change was in progress").toBeGreaterThan(0);
    expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
    const added = outcome.body.replica!;
    // The next unused id; on the 3-node Deno cluster an id names its node (placement.ts), and the
    // one node without a staying replica is the replaced one's, whose next id is replaced + 3.
    expect(added).toBe(inject("denoNodeUrls") === undefined ? 4 : replaced + 3);
    const membership = [1, 2, 3, added].filter((id) => id !== replaced);
    expect(outcome.body.replicas!.map((replica) => replica.id).sort()).toEqual(membership);

    await expectLinearizableReadBack({ history, keys, path, operationsMin: 30 });

    let after = await detail();
    for (let poll = 0; poll < 200; poll++) {
      const agreed = after.health.replicas.every((replica) => replica.reachable && JSON.stringify(replica.voters) === JSON.stringify(membership));
      if (agreed && after.replicaChange === undefined && after.health.leader > 0) break;
      await sleep(50);
      after = await detail();
    }
    expect(after.replicas.map((replica) => replica.id).sort()).toEqual(membership);
    expect(after.replicaChange).toBeUndefined();
    for (const replica of after.health.replicas) expect({ id: replica.id, voters: replica.voters, learners: replica.learners }).toEqual({ id: replica.id, voters: membership, learners: [] });
    const again = await call(`/v1/groups/${group}/replicas/${replaced}`, { method: "DELETE" });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([404, "replicaNotFound"]);
    console.log(`replace: ${history.operations().length} operations, ${failures.length} failed requests, leader ${crashed} crashed, replace answered after ${outcome.attempts} attempt(s)`);
  });
});
