/**
 * Proves the `edgeraft groups replicas` commands end to end: spawned as a process against the
 * suite's server (wrangler dev, or the Deno cluster), `add` adds replica 4 to a new group, `rm` removes it again, and a remove
 * below three replicas prints the server's tooFewReplicas refusal and exits 2 (a refused request). On the
 * 3-node Deno cluster, where every node holds one of the group's replicas, `add` prints tooManyReplicas.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { baseUrl, callJson } from "./client.ts";
import { e2eAdminToken } from "./wrangler.ts";

/** Runs the CLI with `args` against the suite's server. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, EDGERAFT_URL: baseUrl(), EDGERAFT_TOKEN: e2eAdminToken };
  const child = spawn(process.execPath, [resolve("bin/edgeraft.ts"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

describe("edgeraft groups replicas", () => {
  it("adds and removes a replica, and refuses a remove below three replicas", async () => {
    const created = await cli(["groups", "create", "cli-replicas", "--prefix", "cli-replicas/"]);
    expect(created.code, created.stderr).toBe(0);
    // The founding replicas' locations depend on the host (wnam, weur, apac on Cloudflare; deno on a Deno cluster).
    const group = await callJson<{ replicas: { id: number; location: string }[] }>("/v1/groups/cli-replicas");
    const founders = group.body.replicas.map((replica) => `${replica.id}@${replica.location}`).join(" ");
    expect(founders).toMatch(/^1@\S+ 2@\S+ 3@\S+$/);
    const added = await cli(["groups", "replicas", "add", "cli-replicas", "--location", "weur"]);
    if (inject("denoNodeUrls") !== undefined) {
      // A 3-node Deno cluster holds one replica of the group on every node already: a fourth would
      // share a node with another (test/deno-cluster/replica-placement.test.ts adds one on 4 nodes).
      expect(added.code).toBe(2);
      expect(added.stderr).toContain("tooManyReplicas");
      expect(added.stderr).toContain("every node of the cluster (3) already holds a replica of group cli-replicas");
      const refused = await cli(["groups", "replicas", "rm", "cli-replicas", "1"]);
      expect([refused.code, refused.stderr.includes("tooFewReplicas")]).toEqual([2, true]);
      expect((await cli(["groups", "replicas", "rm", "cli-replicas"])).code).toBe(2); // usage: no id
      return;
    }
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`added replica 4 to cli-replicas: replicas ${founders} 4@weur`);
    const removed = await cli(["groups", "replicas", "rm", "cli-replicas", "4", "--json"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((JSON.parse(removed.stdout) as { replicas: { id: number }[] }).replicas.map((replica) => replica.id)).toEqual([1, 2, 3]);
    const refused = await cli(["groups", "replicas", "rm", "cli-replicas", "1"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("tooFewReplicas");
    expect((await cli(["groups", "replicas", "rm", "cli-replicas"])).code).toBe(2); // usage: no id
  });
});
