/**
 * Proves, on a real 4-process Deno cluster, that membership changes keep a group's replicas on
 * distinct nodes (placement.ts replicaIdOnFreeNode): a replica added to a 3-replica group starts on
 * the one node without a replica of the group, a fifth is refused (409 tooManyReplicas: two on one
 * node would be lost together), as is a new group of five, and a replaced replica's successor starts on the node that holds
 * none of the group's replicas, not beside the replica it replaces. Each node's /metrics shows
 * which replicas it runs, and the group's health names the same nodes. Then the node of one replica is killed: the group still takes writes,
 * that replica's replacement starts on the live node without one (not the dead one), and every
 * acknowledged write reads back. That replace is asked of the leader's node: its router's calls
 * to the leader are answered in-process, and its membership steps once spun there without letting
 * the event loop turn (a proposal refused while the first was pending, again and again), so each
 * step failed after 30 s with 503. Before, an added replica's id alone picked its node:
 * here the fifth replica joined replica 1's node, and replica 1's successor started beside it; on
 * three nodes, replica 4 joined replica 1's node, and one node down cost the group two votes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeSender, putUntilAcknowledged, startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";
import { parsePrometheusText } from "../support/prometheus-parser.ts";

const nodeCount = 4;
const tenant = "placed";
const group = `tenant-${tenant}`;
const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
const acknowledged = new Map<string, string>();

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-placement-"));
  cluster = await startDenoCluster({ dataDirectory, nodeCount });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

const send = nodeSender(() => cluster.urls, headers, 40_000);

/** Writes `value` at `key` of the tenant through `node`, retrying while the group elects; remembers it as acknowledged. */
async function write(node: number, key: string, value: string): Promise<void> {
  await putUntilAcknowledged(send, node, `/v1/tenants/${tenant}/kv/${key}`, value, 40);
  acknowledged.set(key, value);
}

/** The group's replica ids, from its record. */
async function replicaIds(node = 1): Promise<number[]> {
  const body = (await (await send(node, `/v1/groups/${group}`)).json()) as { replicas: { id: number }[] };
  return body.replicas.map((replica) => replica.id).sort((a, b) => a - b);
}

/** Which node runs each replica of the group, from every live node's /metrics (edgeraft_replica_up). */
async function hosts(nodes: readonly number[]): Promise<Map<number, number>> {
  const placed = new Map<number, number>();
  for (const node of nodes) {
    const family = parsePrometheusText(await (await send(node, "/metrics")).text()).find((candidate) => candidate.name === "edgeraft_replica_up");
    for (const sample of family?.samples ?? []) if (sample.labels.group === group && sample.value === 1) placed.set(Number(sample.labels.replica), node);
  }
  return placed;
}

/** The nodes of `ids`, once every one of them runs somewhere. */
async function nodesOf(ids: readonly number[], nodes: readonly number[] = [1, 2, 3, 4]): Promise<number[]> {
  let placed = await hosts(nodes);
  for (let poll = 0; poll < 100 && !ids.every((id) => placed.has(id)); poll++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    placed = await hosts(nodes);
  }
  return ids.map((id) => placed.get(id) ?? 0);
}

async function change(path: string, method: "POST" | "DELETE", node = 1): Promise<{ status: number; body: { replica?: number; code?: string; detail?: string }; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const response = await send(node, `/v1/groups/${group}/replicas${path}`, { method });
    const body = (await response.json()) as { replica?: number; code?: string; detail?: string };
    // A 503 leaves a remove or replace recorded; sent again, it is finished (an add sent again would add another).
    if (response.status !== 503 || path === "" || attempt === 5) return { status: response.status, body, attempts: attempt };
  }
}

/** The group's health as node `node` reports it (GET /v1/groups/{name} asks the replicas). */
async function health(node: number): Promise<{ leader: number; replicas: { id: number; node?: number; reachable: boolean }[] }> {
  return ((await (await send(node, `/v1/groups/${group}`)).json()) as { health: { leader: number; replicas: { id: number; node?: number; reachable: boolean }[] } }).health;
}

describe("replica placement on a 4-node Deno cluster", () => {
  it("adds and replaces replicas only on nodes without one of the group, and the group survives losing a node", async () => {
    await write(1, "k0", "v0");
    expect(await replicaIds()).toEqual([1, 2, 3]);
    const founders = await nodesOf([1, 2, 3]);
    expect(new Set(founders).size).toBe(3);
    const free = [1, 2, 3, 4].find((node) => !founders.includes(node))!;

    // Added: on the free node, whatever id that takes.
    const added = await change("", "POST");
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const fourth = added.body.replica!;
    expect(fourth).toBeGreaterThanOrEqual(4);
    expect(await nodesOf([fourth])).toEqual([free]);
    await write(2, "k1", "v1");

    // A fifth replica would share a node.
    const refused = await change("", "POST");
    expect([refused.status, refused.body.code]).toEqual([409, "tooManyReplicas"]);
    expect(refused.body.detail).toContain("every node of the cluster (4) already holds a replica");
    expect(await replicaIds()).toEqual([1, 2, 3, fourth]);

    const removed = await change(`/${fourth}`, "DELETE");
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(await replicaIds()).toEqual([1, 2, 3]);

    // A new group may have a replica on every node, and no more.
    const create = async (name: string, replicas: number) => (await send(1, "/v1/groups", { method: "POST", body: JSON.stringify({ name, prefix: `${name}/`, replicas }) })).json() as Promise<{ replicas?: unknown[]; code?: string; detail?: string }>;
    expect(await create("five", 5)).toMatchObject({ code: "tooManyReplicas", detail: "a group of this cluster has at most 4 replicas, one per node" });
    expect((await create("four", 4)).replicas).toHaveLength(4);

    // Replica 1 replaced: its successor goes to the node holding none, not beside replica 1.
    const replaced = await change("/1/replace", "POST");
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    const successor = replaced.body.replica!;
    expect(successor).toBeGreaterThan(fourth);
    expect(await replicaIds()).toEqual([2, 3, successor]);
    const now = await nodesOf([2, 3, successor]);
    expect(now).toEqual([founders[1], founders[2], free]);
    // The group's health names the node of each replica, as the nodes' own metrics show them.
    expect((await health(2)).replicas.map((replica) => [replica.id, replica.node])).toEqual([[2, now[0]], [3, now[1]], [successor, now[2]]]);
    await write(3, "k2", "v2");

    // One node down costs the group one vote: writes go on through the others.
    const lost = now[0]!;
    await cluster.kill(lost);
    const live = [1, 2, 3, 4].filter((node) => node !== lost);
    for (const [i, node] of live.entries()) await write(node, `after-${i}`, `a-${i}`);

    // What an operator looks for: the group's replica on the dead node.
    expect((await health(live[0]!)).replicas.find((replica) => replica.id === 2)).toMatchObject({ id: 2, node: lost, reachable: false });

    // The replica on the dead node replaced, asked of the node of the group's leader (its router
    // then calls the leader in-process): the successor starts on the live node holding none.
    const leaderNode = (await nodesOf([(await health(live[0]!)).leader], live))[0]!;
    const rescued = await change("/2/replace", "POST", leaderNode);
    expect([rescued.status, rescued.attempts], JSON.stringify(rescued.body)).toEqual([200, 1]);
    const third = rescued.body.replica!;
    expect(await replicaIds(live[0])).toEqual([3, successor, third]);
    expect(await nodesOf([3, successor, third], live)).toEqual([founders[2], free, founders[0]]);
    expect((await health(live[0]!)).replicas.map((replica) => [replica.id, replica.node, replica.reachable])).toEqual([[3, founders[2], true], [successor, free, true], [third, founders[0], true]]);
    await write(live[1]!, "k3", "v3");
    for (const [key, value] of acknowledged) {
      const read = await send(live[0]!, `/v1/tenants/${tenant}/kv/${key}`);
      expect([key, read.status, await read.text()]).toEqual([key, 200, value]);
    }
  });
});
