/**
 * Proves TLS on a real 3-node Deno cluster: every node serves HTTPS with a certificate signed by a
 * private CA (made here with openssl) and dials its peers over wss:// trusting that CA (DENO_CERT).
 * A write through one node is read through another (so the peers' connections carry Raft), every
 * node sent frames to both peers, plain HTTP to a node's port gets no answer, and a client that
 * does not trust the CA is refused by its own TLS check.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { httpsCall, startDenoCluster, testClusterSecret } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

/** A private CA and one certificate for 127.0.0.1 signed by it (every node of the test cluster serves it). */
function makeCertificates(directory: string): { certFile: string; keyFile: string; caFile: string } {
  const file = (name: string) => join(directory, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=edgeraft test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", ...ec, "-keyout", file("node.key"), "-out", file("node.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(file("node.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", file("node.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-out", file("node.pem"), "-days", "2", "-extfile", file("node.ext"));
  return { certFile: file("node.pem"), keyFile: file("node.key"), caFile: file("ca.pem") };
}

describe("a Deno cluster with TLS", () => {
  it("serves HTTPS only, and its nodes replicate over wss:// trusting the cluster's CA", async () => {
    const directory = mkdtempSync(join(tmpdir(), "edgeraft-tls-"));
    const files = makeCertificates(directory);
    const ca = readFileSync(files.caFile, "utf8");
    const cluster = await startDenoCluster({ dataDirectory: join(directory, "data"), tls: { ...files, ca } });
    const admin = { authorization: `Bearer ${e2eAdminToken}` };
    try {
      for (const id of [1, 2, 3]) expect(cluster.output(id)).toContain(`"url":"https://127.0.0.1:${cluster.ports[id - 1]}"`); // each node says it serves HTTPS
      let written = await httpsCall(`${cluster.urls[1]}/v1/kv/tls%2Fkey`, { ca, method: "PUT", headers: admin, body: "over tls" });
      for (let attempt = 0; attempt < 20 && written.status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250)); // setup: the first group is being created
        written = await httpsCall(`${cluster.urls[1]}/v1/kv/tls%2Fkey`, { ca, method: "PUT", headers: admin, body: "over tls" });
      }
      expect(written.status).toBe(200);
      const read = await httpsCall(`${cluster.urls[2]}/v1/kv/tls%2Fkey`, { ca, headers: admin });
      expect(read).toEqual({ status: 200, body: "over tls" });

      // Raft and router calls travelled between every pair of nodes: over wss://, since no node listens in clear.
      for (const [index, url] of cluster.urls.entries()) {
        const stats = await httpsCall(`${url}/internal/node`, { ca, headers: { authorization: `Bearer ${testClusterSecret}` } });
        const transport = (JSON.parse(stats.body) as { transport: { framesReceived: number; peers: Record<string, { framesSent: number }> } }).transport;
        const peers = [1, 2, 3].filter((id) => id !== index + 1);
        expect(peers.map((id) => (transport.peers[id]?.framesSent ?? 0) > 0)).toEqual([true, true]);
        expect(transport.framesReceived).toBeGreaterThan(0);
      }
      // Plain HTTP on a node's port gets no HTTP answer at all.
      const plain = await fetch(cluster.urls[0]!.replace("https://", "http://") + "/v1/health/live").then((response) => `answered ${response.status}`, () => "no answer");
      expect(plain).toBe("no answer");
      // A client without the CA refuses the node's certificate.
      await expect(httpsCall(`${cluster.urls[0]}/v1/health/live`)).rejects.toThrow(/certificate/i);
    } finally {
      await cluster.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
