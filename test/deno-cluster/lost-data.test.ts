/**
 * Proves, on a real 3-process Deno cluster, that a node whose data directory is lost comes back
 * safely: SIGKILL, its directory deleted, restarted empty. Its replicas, the metadata group's too
 * (its router bootstraps that group on first use), and two quiet groups' (woken when the node
 * connects, one of them led by the lost replica), are adopted recovering (replica-adoption.ts:
 * started at the highest term of the other members, voting for nobody until a leader caught them
 * up), they catch up, and then they count: with another node killed, every
 * group still takes writes on the two nodes left, one of them the emptied node, and every
 * acknowledged write reads back. Before adoption was fenced, the emptied node's replicas failed on
 * their first heartbeat (a commit index past their empty log) and never caught up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeSender, putUntilAcknowledged, startDenoCluster, testClusterSecret, waitForCatchUp, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";
import { parsePrometheusText } from "../support/prometheus-parser.ts";
import { nodeOfReplica } from "../../src/hosts/deno/placement.ts";

const emptied = 2;
const killedAfter = 3;
const tenants = ["lost-a", "lost-b", "lost-c"];
const groups = ["default", ...tenants.map((tenant) => `tenant-${tenant}`)];
/**
 * Two tenants written before the loss and never again until the end: their groups are quiet when
 * the node comes back. The first is led by a replica on another node (it wakes when the emptied
 * node connects); the second by the emptied node's (lost with it: its followers wake and elect).
 * Replica 1 leads a new group, and placement is a hash of the name, so the names are picked here.
 */
const quietTenants = [quietTenantLedOn((node) => node !== emptied), quietTenantLedOn((node) => node === emptied)];
const quietGroups = quietTenants.map((tenant) => `tenant-${tenant}`);
const quietKeys = quietTenants.map((tenant) => `/v1/tenants/${tenant}/kv/q`);
const keysOf = (round: string) => [...tenants.flatMap((tenant) => [`/v1/tenants/${tenant}/kv/${round}-1`, `/v1/tenants/${tenant}/kv/${round}-2`]), `/v1/kv/lost-${round}-1`, `/v1/kv/lost-${round}-2`];
const headers = { authorization: `Bearer ${e2eAdminToken}` };

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-lost-"));
  cluster = await startDenoCluster({ dataDirectory, envOf: (id): Record<string, string> => (id === emptied ? { LOG_LEVEL: "info" } : {}) }); // replicaAdopted is an info event
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

const send = nodeSender(() => cluster.urls, headers, 15_000);

/** Writes `value` at `key` through `node`, retrying while the cluster elects (a write answered 200 is acknowledged). */
function write(node: number, key: string, value: string): Promise<void> {
  return putUntilAcknowledged(send, node, key, value, 61);
}

/** edgeraft_replica_quiesced of the replicas of `group` that node `node` hosts, from its /metrics (scraping wakes no group). */
async function quiesced(node: number, group: string): Promise<number[]> {
  const text = await (await send(node, "/metrics")).text();
  const family = parsePrometheusText(text).find((candidate) => candidate.name === "edgeraft_replica_quiesced");
  return (family?.samples ?? []).filter((sample) => sample.labels.group === group).map((sample) => sample.value);
}

/** A tenant name whose group's replica 1 is placed on a node that `wanted` accepts. */
function quietTenantLedOn(wanted: (node: number) => boolean): string {
  for (let i = 0; ; i++) if (wanted(nodeOfReplica(`tenant-lost-quiet-${i}`, 1, [1, 2, 3]))) return `lost-quiet-${i}`;
}

async function nodeStats(node: number): Promise<{ replicas: number; recovering: number }> {
  const response = await fetch(`${cluster.urls[node - 1]}/internal/node`, { headers: { authorization: `Bearer ${testClusterSecret}` }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return response === undefined ? { replicas: 0, recovering: -1 } : ((await response.json()) as { replicas: number; recovering: number });
}

describe("a Deno node that lost its data directory", () => {
  it("comes back recovering, catches up, and then counts toward every group's quorum with no acknowledged write lost", async () => {
    const acknowledged = new Map<string, string>();
    for (const [i, key] of [...keysOf("before"), ...quietKeys].entries()) {
      await write((i % 3) + 1, key, `v-${i}`);
      acknowledged.set(key, `v-${i}`);
    }
    const replicasBefore = (await nodeStats(emptied)).replicas;
    expect(replicasBefore).toBeGreaterThanOrEqual(groups.length + quietGroups.length);
    // The quiet groups' replicas went quiet (their leaders send nothing until woken), led where they were meant to be.
    for (const group of quietGroups) {
      await expect.poll(async () => (await Promise.all([1, 2, 3].map((node) => quiesced(node, group)))).flat(), { timeout: 20_000, interval: 250 }).toEqual([1, 1, 1]);
    }
    const leaders = await Promise.all(quietGroups.map(async (group) => ((await (await send(1, `/v1/groups/${group}`)).json()) as { health: { leader: number } }).health.leader));
    expect(leaders.map((leader, i) => nodeOfReplica(quietGroups[i]!, leader, [1, 2, 3]) === emptied)).toEqual([false, true]);

    await cluster.kill(emptied);
    const logBefore = cluster.output(emptied).length;
    rmSync(join(dataDirectory, `node-${emptied}`), { recursive: true, force: true });
    await cluster.restart(emptied);
    // Writes to every group make their leaders reach the emptied node's replicas, which it adopts.
    // The first goes through the emptied node: its router's bootstrap of the metadata group meets
    // the metadata replica there without rows, and must adopt it too, not found it afresh.
    for (const [i, key] of keysOf("during").entries()) {
      await write(i === 0 ? emptied : 1, key, `w-${i}`);
      acknowledged.set(key, `w-${i}`);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await nodeStats(emptied);
      if (stats.replicas >= replicasBefore && stats.recovering === 0) break;
      if (Date.now() > deadline) throw new Error(`node ${emptied} did not take its replicas back: ${JSON.stringify({ replicas: stats.replicas, recovering: stats.recovering })}\n${cluster.output(emptied).slice(logBefore).split("\n").filter((line) => line.includes("replicaAdopted")).join("\n")}\n${JSON.stringify(await Promise.all([...groups, ...quietGroups].map(async (group) => (await send(1, `/v1/groups/${group}`)).json())))}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The quiet groups' too: woken when the emptied node connected (ReplicaAdoption.peerConnected).
    const adoptedGroups = cluster.output(emptied).slice(logBefore).split("\n").flatMap((line) => (line.includes('"replicaAdopted"') ? [(JSON.parse(line) as { group: string }).group] : []));
    expect(new Set(adoptedGroups)).toEqual(new Set(["meta", ...groups, ...quietGroups]));
    await waitForCatchUp(cluster.urls[0]!, groups, headers);
    // Woken for the loss, the quiet groups go quiet again once the adopted replicas caught up (nothing keeps an idle group awake).
    for (const group of quietGroups) {
      await expect.poll(async () => (await Promise.all([1, 2, 3].map((node) => quiesced(node, group)))).flat(), { timeout: 20_000, interval: 250 }).toEqual([1, 1, 1]);
    }

    // The emptied node's replicas count now: without node 3, each group's quorum needs them.
    await cluster.kill(killedAfter);
    for (const [i, key] of keysOf("after").entries()) {
      await write(1 + ((i % 2) * (emptied - 1)), key, `x-${i}`);
      acknowledged.set(key, `x-${i}`);
    }
    for (const [key, value] of acknowledged) {
      const read = await send(emptied, key);
      expect({ key, status: read.status, value: await read.text() }).toEqual({ key, status: 200, value });
    }
  });
});
