/**
 * Proves, on a real 3-process Deno cluster, that SIGKILL of the node leading the most groups loses
 * no acknowledged write: clients write, read and compare-and-set keys of seven groups through
 * every live node; the node is killed mid-run, writes go on once the other nodes elect new
 * leaders, the node is restarted on its data and catches up (every replica of every group applies
 * the same index), and the recorded history, final reads included, is linearizable (the project's
 * checker). Afterwards the groups whose first replica lives on that node are led from it again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HistoryRecorder, checkHistory, describeKeyFailure } from "../../src/checker/index.ts";
import { nodeOfReplica } from "../../src/hosts/deno/placement.ts";
import { startDenoCluster, waitForCatchUp, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const tenants = ["crash-a", "crash-b", "crash-c", "crash-d", "crash-e", "crash-f"];
const groups = ["default", ...tenants.map((tenant) => `tenant-${tenant}`)];
const keys = [...tenants.flatMap((tenant) => [`/v1/tenants/${tenant}/kv/x`, `/v1/tenants/${tenant}/kv/y`]), "/v1/kv/crash-x", "/v1/kv/crash-y"];
const headers = { authorization: `Bearer ${e2eAdminToken}` };

let cluster: DenoCluster;
let dataDirectory: string;
/** Node ids that clients may send to (the killed node leaves it while it is down). */
const alive = new Set([1, 2, 3]);

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-crash-"));
  cluster = await startDenoCluster({ dataDirectory });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

async function send(node: number, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${cluster.urls[node - 1]}${path}`, { ...init, headers: { ...headers, ...init.headers }, signal: AbortSignal.timeout(15_000) });
}

async function groupHealth(group: string, node: number): Promise<{ leader: number; replicas: { id: number; reachable: boolean; applied?: number }[] }> {
  const response = await send(node, `/v1/groups/${group}`);
  const body = (await response.json()) as { health: { leader: number; replicas: { id: number; reachable: boolean; applied?: number }[] } };
  return body.health;
}

/** The node holding the most group leaders, and how many it holds. */
async function nodeLeadingMost(): Promise<{ node: number; leading: number }> {
  const counts = new Map<number, number>();
  for (const group of groups) {
    const { leader } = await groupHealth(group, 1);
    expect(leader).toBeGreaterThan(0);
    const node = nodeOfReplica(group, leader, [1, 2, 3]);
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  const [node, leading] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  return { node, leading };
}

/** One client: reads, writes and compare-and-sets through the live nodes in turn until `stopAt`. */
async function client(process: number, history: HistoryRecorder, stopAt: number, acknowledged: number[]): Promise<void> {
  for (let n = 0; Date.now() < stopAt; n++) {
    const nodes = [...alive];
    const node = nodes[(process + n) % nodes.length]!;
    const key = keys[(process * 5 + n) % keys.length]!;
    const value = `p${process}-${n}`;
    if (n % 3 === 0) {
      history.invoke(process, "write", key, value);
      const status = await send(node, key, { method: "PUT", body: value }).then((r) => r.status, () => 0);
      history.complete(process, status === 200 ? "ok" : "info");
      if (status === 200) acknowledged.push(Date.now());
      continue;
    }
    history.invoke(process, "read", key, null);
    const read = await send(node, key).catch(() => undefined);
    const seen = read?.status === 200 ? await read.text() : null;
    const etag = read?.headers.get("etag") ?? null;
    if (read?.status === 200 || read?.status === 404) history.complete(process, "ok", seen);
    else history.complete(process, "info");
    if (n % 3 !== 2 || seen === null || etag === null) continue;
    history.invoke(process, "cas", key, [seen, value]);
    const swapped = await send(node, key, { method: "PUT", body: value, headers: { "if-match": etag } }).then((r) => r.status, () => 0);
    history.complete(process, swapped === 200 ? "ok" : swapped === 412 ? "fail" : "info");
    if (swapped === 200) acknowledged.push(Date.now());
  }
}

describe("a Deno cluster losing the node that leads the most groups", () => {
  it("keeps serving writes, catches the node up after restart, and the history is linearizable", async () => {
    const history = new HistoryRecorder();
    for (const [i, key] of keys.entries()) {
      history.invoke(98, "write", key, `initial-${i}`);
      expect((await send((i % 3) + 1, key, { method: "PUT", body: `initial-${i}` })).status).toBe(200);
      history.complete(98, "ok");
    }
    const victim = await nodeLeadingMost();
    expect(victim.leading).toBeGreaterThanOrEqual(3); // seven groups over three nodes: some node leads three or more

    const acknowledged: number[] = [];
    const stopAt = Date.now() + 14_000;
    const clients = Array.from({ length: 6 }, (_, process) => client(process, history, stopAt, acknowledged));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    alive.delete(victim.node);
    const killedAt = Date.now();
    await cluster.kill(victim.node);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const restartedAt = Date.now();
    await cluster.restart(victim.node);
    alive.add(victim.node);
    await Promise.all(clients);

    const duringOutage = acknowledged.filter((time) => time > killedAt && time < restartedAt).length;
    expect(duringOutage).toBeGreaterThan(10);
    await waitForCatchUp(cluster.urls[victim.node - 1]!, groups, headers);

    for (const [i, key] of keys.entries()) {
      history.invoke(99, "read", key, null);
      const read = await send((i % 3) + 1, key);
      expect(read.status).toBe(200);
      history.complete(99, "ok", await read.text());
    }
    const result = checkHistory(history.operations());
    const failures = result.keys.filter((k) => k.outcome === "violation").flatMap(describeKeyFailure);
    expect(failures).toEqual([]);
    expect(result.linearizable).toBe(true);
    expect(result.operationsCount).toBeGreaterThan(100);

    // Leaders spread again: the groups whose replica 1 lives on the restarted node are handed back
    // to it once they are used (these writes come after the checked history).
    const preferred = groups.filter((group) => nodeOfReplica(group, 1, [1, 2, 3]) === victim.node);
    expect(preferred.length).toBeGreaterThan(0);
    const keyOfGroup = (group: string) => (group === "default" ? "/v1/kv/crash-x" : `/v1/tenants/${group.slice("tenant-".length)}/kv/x`);
    const deadline = Date.now() + 30_000;
    let ledByVictim: string[] = [];
    while (ledByVictim.length < preferred.length && Date.now() < deadline) {
      for (const group of preferred) await send(victim.node, keyOfGroup(group), { method: "PUT", body: "after" });
      await new Promise((resolve) => setTimeout(resolve, 500));
      ledByVictim = [];
      for (const group of preferred) if (nodeOfReplica(group, (await groupHealth(group, 1)).leader, [1, 2, 3]) === victim.node) ledByVictim.push(group);
    }
    expect(ledByVictim).toEqual(preferred);
    console.info(`killed node ${victim.node} (leading ${victim.leading} of ${groups.length} groups); ${result.operationsCount} operations, ${acknowledged.length} acknowledged writes, ${duringOutage} while it was down`);
  });
});
