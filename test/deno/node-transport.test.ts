/**
 * Proves, under Deno with real sockets, that the node transport delivers frames sent one after
 * another without waiting for the peer's delayed ACK, in both directions of a node pair: two
 * transports on loopback, each served by Deno.serve, send 20 rounds of two frames written in a row
 * (a router call and a Raft frame) each way, and both arrive within 15 ms at the median. Writing
 * on a dialed WebSocket (Nagle's algorithm on) took about 40 ms a round here. Also that the router
 * calls made in one task, and their answers, travel as one text frame each way, each answer
 * reaching its own call, and that a call nobody answers fails after its timeout.
 */
import { afterAll, describe, expect, it } from "vitest";
import { NodeTransport } from "../../src/hosts/deno/node-transport.ts";
import type { MessageBatch } from "../../src/multiraft/wire.ts";

const secret = "transport-test-secret-0123456789";
const arrivals = new Map<number, (() => void)[]>([[1, []], [2, []]]);
const transports = new Map<number, NodeTransport>();
const servers = [1, 2].map(() => Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => transportFor(request).accept(request)));
let nextServer = 0;
const serverIds = new Map<number, number>();
function transportFor(request: Request): NodeTransport {
  const port = Number(new URL(request.url).port);
  return transports.get(serverIds.get(port)!)!;
}

afterAll(async () => {
  for (const transport of transports.values()) transport.stop();
  await Promise.all(servers.map((server) => server.shutdown()));
});

const batch = (from: number, to: number): MessageBatch => ({ group: "g", from, to, messages: [] });

describe("the node transport between two Deno nodes", () => {
  it("delivers frames written one after another without a delayed-ACK stall, both ways", async () => {
    const addresses = servers.map((server) => ({ id: ++nextServer, host: "127.0.0.1", port: server.addr.port }));
    for (const address of addresses) serverIds.set(address.port, address.id);
    for (const self of [1, 2]) {
      transports.set(self, new NodeTransport({
        self,
        peers: addresses.filter((address) => address.id !== self),
        secret,
        callTimeoutMs: 400,
        onBatches: () => arrivals.get(self)!.shift()?.(),
        onRequest: async (request) => {
          if (request.path === "/internal/hang") return new Promise(() => undefined);
          arrivals.get(self)!.shift()?.();
          return { status: 200, body: { echo: request.body, at: self } };
        },
      }));
    }
    for (const transport of transports.values()) transport.start();
    for (let attempt = 0; !(transports.get(1)!.connected(2) && transports.get(2)!.connected(1)); attempt++) {
      expect(attempt).toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (const [from, to] of [[1, 2], [2, 1]] as const) {
      const seconds: number[] = [];
      for (let round = 0; round < 20; round++) {
        const both = Promise.all([0, 1].map(() => new Promise<void>((resolve) => arrivals.get(to)!.push(resolve))));
        const startedMs = performance.now();
        // Both leave at the end of this task, as two frames written in a row (a text and a binary one).
        transports.get(from)!.send(to, batch(from, to));
        void transports.get(from)!.request(to, { group: "g", replica: to, path: "/internal/status", body: {} });
        await both;
        seconds.push(performance.now() - startedMs);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      seconds.sort((a, b) => a - b);
      expect(seconds[10], `node ${from} to node ${to}: ${seconds.map((ms) => ms.toFixed(1)).join(" ")}`).toBeLessThan(15);
    }
  });

  it("sends the router calls of one task as one text frame, and their answers as one, up to a size", async () => {
    const [one, two] = [transports.get(1)!, transports.get(2)!];
    const before = { one: { ...one.counters }, two: { ...two.counters } };
    const answers = await Promise.all([0, 1, 2, 3, 4].map((n) => one.request(2, { group: "g", replica: 2, path: "/internal/get", body: { n } })));
    expect(answers).toEqual([0, 1, 2, 3, 4].map((n) => ({ status: 200, body: { echo: { n }, at: 2 } })));
    expect([one.counters.callsSent - before.one.callsSent, one.counters.callFramesSent - before.one.callFramesSent]).toEqual([5, 1]);
    expect([two.counters.callsSent - before.two.callsSent, two.counters.callFramesSent - before.two.callFramesSent]).toEqual([5, 1]);
    // Large calls do not make one huge frame: at most 1 MiB of JSON text a frame (or a single call).
    const large = { one: { ...one.counters }, two: { ...two.counters } };
    const value = "v".repeat(600_000);
    const echoed = await Promise.all([0, 1, 2].map((n) => one.request(2, { group: "g", replica: 2, path: "/internal/get", body: { n, value } })));
    expect(echoed.map((answer) => (answer.body as { echo: { n: number; value: string } }).echo)).toEqual([0, 1, 2].map((n) => ({ n, value })));
    expect(one.counters.callFramesSent - large.one.callFramesSent).toBe(3);
    expect(two.counters.callFramesSent - large.two.callFramesSent).toBe(3);
  });

  it("fails a call that gets no answer within its timeout", async () => {
    const startedMs = performance.now();
    const call = transports.get(1)!.request(2, { group: "g", replica: 2, path: "/internal/hang", body: {} });
    await expect(call).rejects.toThrow(/did not answer in time/);
    const waitedMs = performance.now() - startedMs;
    expect(waitedMs).toBeGreaterThan(390); // Date.now has whole milliseconds
    expect(waitedMs).toBeLessThan(1_500);
  });
});
