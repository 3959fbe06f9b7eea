/**
 * Proves the replica Durable Object inside workerd: an election driven only by alarms, a replica
 * aborted in the middle of writes recovering every acknowledged write from SQLite, and the
 * Worker's directory replacing a stub that broke when its object was aborted.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectDirectory } from "../../src/hosts/cloudflare/directory.ts";

type Status = {
  kind: string;
  status?: { role: string; leader: number; term: number; commit: number; applied: number };
  traffic?: { received: { batches: number; messages: number }; sent: { batchesSent: number; messagesSent: number } };
};

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const post = (stub: DurableObjectStub, path: string, body: unknown) =>
  stub.fetch(`https://replica${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const statusOf = async (stub: DurableObjectStub) => (await (await stub.fetch("https://replica/internal/status")).json()) as Status;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function bootstrap(group: string, voters: number[]): Promise<DurableObjectStub[]> {
  const stubs = voters.map((id) => stubOf(group, id));
  for (const [i, stub] of stubs.entries()) {
    const response = await post(stub, "/internal/bootstrap", { group, replica: voters[i], voters, locations: {}, owns: { default: true }, epoch: 1 });
    expect(response.status).toBe(200);
  }
  return stubs;
}

// A client has one command in flight at a time, so concurrent writes use distinct client ids.
const put = (client: number, key: string, value: string) => ({
  epoch: 1,
  command: { clientId: `test-client-${client}`, seq: 1, timeMs: Date.now(), operation: { type: "put", key, valueBase64: btoa(value) } },
});

describe("replica Durable Objects", () => {
  it("elect a leader from their alarms alone", async () => {
    const stubs = await bootstrap("alarm-election", [1, 2, 3]);
    let leaders: number[] = [];
    for (let round = 0; round < 200 && leaders.length === 0; round++) {
      await sleep(20);
      for (const stub of stubs) await runDurableObjectAlarm(stub);
      const statuses = await Promise.all(stubs.map(statusOf));
      leaders = statuses.filter((s) => s.status?.role === "leader").map((s) => s.status!.leader);
    }
    expect(leaders.length).toBe(1);
    // Followers learn the leader from its first append, which may still be on its way.
    let statuses = await Promise.all(stubs.map(statusOf));
    for (let round = 0; round < 100 && statuses.some((s) => s.status!.leader !== leaders[0]); round++) {
      await sleep(20);
      for (const stub of stubs) await runDurableObjectAlarm(stub);
      statuses = await Promise.all(stubs.map(statusOf));
    }
    expect(statuses.map((s) => s.status!.leader)).toEqual([leaders[0], leaders[0], leaders[0]]);
  });

  it("a replica aborted in the middle of writes keeps every acknowledged write", async () => {
    const [stub] = await bootstrap("abort-recovery", [1]);
    await post(stub!, "/internal/campaign", {});
    const acknowledged: string[] = [];
    let interrupted = 0;
    const writes = Array.from({ length: 20 }, async (_, i) => {
      try {
        const response = await post(stub!, "/internal/write", put(i + 1, `k${i}`, `v${i}`));
        const answer = (await response.json()) as { kind: string; result?: { ok: boolean } };
        if (answer.kind === "applied" && answer.result?.ok === true) acknowledged.push(`k${i}`);
      } catch {
        interrupted++; // cut off by the abort: its outcome is unknown, so it is not counted
      }
    });
    await sleep(5);
    await post(stub!, "/internal/crash", {}).catch(() => undefined);
    await Promise.all(writes);
    expect(acknowledged.length + interrupted).toBe(20);
    const fresh = stubOf("abort-recovery", 1);
    for (let round = 0; round < 100 && (await statusOf(fresh)).status?.role !== "leader"; round++) {
      await sleep(20);
      await runDurableObjectAlarm(fresh);
    }
    for (const key of acknowledged) {
      const read = (await (await post(fresh, "/internal/get", { epoch: 1, key, consistency: "linearizable" })).json()) as { found: boolean };
      expect(read.found, key).toBe(true);
    }
    const status = (await statusOf(fresh)).status!;
    expect(status.applied).toBe(status.commit);
  });

  it("the Worker's directory replaces a stub that failed when its object was aborted", async () => {
    await bootstrap("broken-stub", [1]);
    const directory = new DurableObjectDirectory(env);
    const group = { name: "broken-stub", replicas: [{ id: 1, location: "wnam" }], epoch: 1 };
    expect((await directory.call(group, 1, "/internal/status", undefined)).status).toBe(200);
    await expect(directory.call(group, 1, "/internal/crash", {})).rejects.toThrow();
    const again = await directory.call(group, 1, "/internal/status", undefined);
    expect(((await again.json()) as Status).kind).toBe("ok");
  });

  it("a leader under concurrent writes sends each follower batches, not a request per write", async () => {
    const stubs = await bootstrap("batched-transport", [1, 2, 3]);
    await post(stubs[0]!, "/internal/campaign", {});
    for (let round = 0; round < 200 && (await statusOf(stubs[0]!)).status?.role !== "leader"; round++) await sleep(10);
    expect((await statusOf(stubs[0]!)).status?.role).toBe("leader");
    const before = await Promise.all(stubs.map(statusOf));
    const writes = 60;
    const answers = await Promise.all(
      Array.from({ length: writes }, async (_, i) => (await (await post(stubs[0]!, "/internal/write", put(i + 1, `b${i}`, `v${i}`))).json()) as { kind: string }),
    );
    expect(answers.map((a) => a.kind)).toEqual(Array.from({ length: writes }, () => "applied"));
    const after = await Promise.all(stubs.map(statusOf));
    for (const follower of [1, 2]) {
      const batches = after[follower]!.traffic!.received.batches - before[follower]!.traffic!.received.batches;
      const messages = after[follower]!.traffic!.received.messages - before[follower]!.traffic!.received.messages;
      // One request per write (or two, with the commit index) without batching; far fewer with it.
      expect(batches, `follower ${follower + 1}: ${batches} requests for ${writes} writes`).toBeLessThan(writes / 3);
      expect(messages).toBeGreaterThanOrEqual(batches);
    }
    const leaderSent = after[0]!.traffic!.sent.batchesSent - before[0]!.traffic!.sent.batchesSent;
    expect(leaderSent).toBeLessThan((2 * writes) / 3);
    for (const stub of stubs) {
      const read = (await (await post(stub, "/internal/get", { epoch: 1, key: "b59", consistency: "stale" })).json()) as { kind: string };
      expect(read.kind).toBe("ok");
    }
  });
});
