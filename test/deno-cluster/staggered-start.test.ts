/**
 * Proves that a new Deno cluster whose nodes come up one after another still elects its metadata
 * group: node 1 serves a request alone (its router bootstraps the metadata replica placed on it;
 * the requests to the others go unanswered) and its replica campaigns without a quorum; nodes 2
 * and 3 come up and hear from it before they heard a bootstrap request. Their replicas wait for
 * one (replica-adoption.ts: the group has not gone past its bootstrap), so the router must send it
 * again. Before, it counted one round of requests as done whatever the answers: with fenced
 * adoption the late replicas were never made and the cluster never served a request (the likely
 * cause of the TLS test's hangs on the first version of adoption).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const headers = { authorization: `Bearer ${e2eAdminToken}` };

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-staggered-"));
  cluster = await startDenoCluster({ dataDirectory });
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
});

const put = (node: number, key: string) =>
  fetch(`${cluster.urls[node - 1]}/v1/kv/${key}`, { method: "PUT", headers, body: key, signal: AbortSignal.timeout(15_000) }).then((response) => response.status, () => 0);

describe("a new Deno cluster whose nodes start one after another", () => {
  it("elects its metadata group once the late nodes are up, and serves writes through each node", async () => {
    // Nodes 2 and 3 go down before anything was bootstrapped (the routers bootstrap on first use).
    await Promise.all([cluster.kill(2), cluster.kill(3)]);
    expect(await put(1, "alone")).not.toBe(200); // node 1 alone: its metadata replica campaigns without a quorum
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // several election timeouts (pre-votes that find no quorum)

    await Promise.all([cluster.restart(2), cluster.restart(3)]);
    const written: number[] = [];
    for (const node of [1, 2, 3]) {
      let status = 0;
      for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        status = await put(node, `late-${node}`);
      }
      if (status !== 200) throw new Error(`no write through node ${node} (last status ${status}):\n${[1, 2, 3].map((id) => `node ${id}:\n${cluster.output(id).slice(-4000)}`).join("\n")}`);
      written.push(status);
    }
    expect(written).toEqual([200, 200, 200]);
    const read = await fetch(`${cluster.urls[2]}/v1/kv/late-1`, { headers });
    expect({ status: read.status, body: await read.text() }).toEqual({ status: 200, body: "late-1" });
  });
});
