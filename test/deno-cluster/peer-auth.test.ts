/**
 * Proves that the node transport admits only holders of the cluster secret: an upgrade to the peer
 * route without it, with a wrong one, or naming an unknown node is refused with 401 before any
 * frame is read, and so is a Raft frame posted as a plain request; the same upgrade with the
 * secret is accepted (so the refusals come from the secret check). A peer with the secret that
 * names another peer protocol version, or none, is refused with 412 and a stable code, and the
 * node counts it. A whole node process started
 * with a wrong secret cannot join: its writes find no replica it can reach, and nothing it was
 * asked to write appears in the cluster.
 */
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { encodeNodeFrame } from "../../src/multiraft/node-frame.ts";
import { peerProtocol, peerProtocolHeader } from "../../src/hosts/deno/peer-handshake.ts";
import { spawnNode, testClusterSecret } from "../e2e/deno-cluster.ts";
import { e2eAdminToken, freePort } from "../e2e/wrangler.ts";

const urls = () => inject("denoNodeUrls");
const admin = { authorization: `Bearer ${e2eAdminToken}` };

/** Sends a WebSocket upgrade request to a node's peer route; resolves with the HTTP status. */
async function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return (await upgrade(url, headers)).status;
}

/** Sends a WebSocket upgrade request to a node's peer route; resolves with the HTTP status and, when refused, the body. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const upgrade = request(`${url}/internal/peer`, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13", ...headers },
    });
    upgrade.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: "" });
    });
    upgrade.on("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    upgrade.on("error", reject);
    upgrade.end();
  });
}

describe("the node transport's cluster secret", () => {
  it("refuses peers without the secret and accepts one with it", async () => {
    const node3 = urls()[2]!;
    expect(await upgradeStatus(node3, { "x-edgeraft-node": "1" })).toBe(401);
    expect(await upgradeStatus(node3, { "x-edgeraft-node": "1", authorization: "Bearer not-the-secret" })).toBe(401);
    expect(await upgradeStatus(node3, { "x-edgeraft-node": "9", authorization: `Bearer ${testClusterSecret}` })).toBe(401);
    expect(await upgradeStatus(node3, { "x-edgeraft-node": "1", authorization: `Bearer ${testClusterSecret}`, [peerProtocolHeader]: peerProtocol })).toBe(101);
    const frame = encodeNodeFrame([{ group: "default", from: 1, to: 3, messages: [] }]);
    const injected = await fetch(`${node3}/internal/peer`, { method: "POST", body: frame, headers: { "x-edgeraft-node": "1" } });
    expect(injected.status).toBe(401);
    // The accepted upgrade above replaced node 1's connection for a moment; the cluster heals.
    const write = await fetch(`${urls()[0]}/v1/kv/auth-after-control`, { method: "PUT", body: "ok", headers: admin });
    expect(write.status).toBe(200);
  });

  it("refuses a peer with the secret that speaks another peer protocol, or names none, with a stable code", async () => {
    const node3 = urls()[2]!;
    const peer = { "x-edgeraft-node": "1", authorization: `Bearer ${testClusterSecret}` };
    const refusedBefore = await refusedProtocol(node3);
    const other = await upgrade(node3, { ...peer, [peerProtocolHeader]: `${peerProtocol}.0` });
    expect(other.status).toBe(412);
    expect(JSON.parse(other.body)).toMatchObject({ code: "peerProtocolMismatch" });
    expect(JSON.parse(other.body).detail).toContain(peerProtocol);
    const none = await upgrade(node3, peer);
    expect(none.status).toBe(412);
    expect(JSON.parse(none.body)).toMatchObject({ code: "peerProtocolMismatch" });
    expect(await refusedProtocol(node3)).toBe(refusedBefore + 2);
    // The cluster's own connections were left alone: it still writes.
    const write = await fetch(`${urls()[0]}/v1/kv/protocol-after-refusal`, { method: "PUT", body: "ok", headers: admin });
    expect(write.status).toBe(200);
  });

  it("keeps a node process started with a wrong secret out of the cluster", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-impostor-"));
    const ports = [await freePort(), ...urls().slice(1).map((url) => Number(new URL(url).port))];
    let log = "";
    const impostor = spawnNode({ id: 1, dataDirectory, ports, tickMs: 50, secret: "a-wrong-secret-of-enough-length" }, (text) => (log += text));
    try {
      const impostorUrl = `http://127.0.0.1:${ports[0]}`;
      for (let attempt = 0; ; attempt++) {
        const live = await fetch(`${impostorUrl}/v1/health/live`).then((r) => r.ok, () => false);
        if (live) break;
        if (attempt > 200) throw new Error(`the impostor did not start:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const write = await fetch(`${impostorUrl}/v1/kv/impostor-key`, { method: "PUT", body: "injected", headers: admin });
      expect(write.status).toBe(503);
      const read = await fetch(`${urls()[1]}/v1/kv/impostor-key`, { headers: admin });
      expect(read.status).toBe(404);
    } finally {
      impostor.kill("SIGKILL");
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });
});

/** How many peers a node refused for their protocol (its statistics, read with the cluster secret). */
async function refusedProtocol(url: string): Promise<number> {
  const response = await fetch(`${url}/internal/node`, { headers: { authorization: `Bearer ${testClusterSecret}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { transport: { refusedProtocol: number } }).transport.refusedProtocol;
}
