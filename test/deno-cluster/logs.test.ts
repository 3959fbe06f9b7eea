/**
 * Proves the structured logs on the Deno host: in a 3-node cluster where only node 1 runs with
 * LOG_LEVEL=info, node 1 prints one JSON line per notable event (the group created through it; an
 * election won by the replica it hosts, with group, replica and term, when leadership is handed to
 * that replica), while nodes 2 and 3, at the default level (LOG_LEVEL empty), print none of them for the same kind
 * of work (a group created through node 2).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";
import { parsePrometheusText } from "../support/prometheus-parser.ts";

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-logs-"));
  cluster = await startDenoCluster({ dataDirectory, envOf: (id): Record<string, string> => ({ LOG_LEVEL: id === 1 ? "info" : "" }) });
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
});

/** The JSON event lines node `id` printed. */
function eventsOf(id: number): Record<string, unknown>[] {
  return cluster.output(id).split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The id of the replica of `group` that node `id` hosts, from its /metrics. */
async function replicaOnNode(id: number, group: string): Promise<number> {
  const text = await (await fetch(`${cluster.urls[id - 1]}/metrics`, { headers: { authorization: `Bearer ${e2eAdminToken}` } })).text();
  const up = parsePrometheusText(text).find((family) => family.name === "edgeraft_replica_up")?.samples.find((sample) => sample.labels.group === group && sample.value === 1);
  if (up === undefined) throw new Error(`node ${id} hosts no replica of ${group}`);
  return Number(up.labels.replica);
}

describe("structured logs on the Deno host", () => {
  it("LOG_LEVEL=info prints notable events with group, replica and term; the default level prints none", async () => {
    const throughNode1 = new EdgeraftClient({ url: cluster.urls[0]!, token: e2eAdminToken });
    await throughNode1.groups.create({ name: "logs-one", prefix: "logs-one/", replicas: 3 });
    await throughNode1.put("logs-one/k", "v");
    const throughNode2 = new EdgeraftClient({ url: cluster.urls[1]!, token: e2eAdminToken });
    await throughNode2.groups.create({ name: "logs-two", prefix: "logs-two/", replicas: 3 });
    await throughNode2.put("logs-two/k", "v");

    const created = eventsOf(1).find((event) => event.event === "groupCreated" && event.group === "logs-one");
    expect(created).toMatchObject({ level: "info", time: expect.any(String) });

    const replica = await replicaOnNode(1, "logs-one");
    const transfer = await fetch(`${cluster.urls[0]}/v1/groups/logs-one/transfer-leader`, {
      method: "POST", headers: { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" }, body: JSON.stringify({ to: replica }),
    });
    expect(transfer.status).toBe(200);
    await expect.poll(() => eventsOf(1).find((event) => event.event === "electionWon" && event.group === "logs-one" && event.replica === replica), { timeout: 20_000 })
      .toMatchObject({ level: "info", term: expect.any(Number) });

    const quiet = [2, 3].flatMap((id) => eventsOf(id).filter((event) => event.event !== "listening"));
    expect(quiet).toEqual([]);
  });
});
