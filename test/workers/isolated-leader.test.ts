/**
 * Proves that a client request to a quiesced leader cut off from its peers gets an answer instead
 * of hanging (found by the chaos campaign): a three-replica group elects a leader, takes a write
 * and goes quiet (no alarm armed anywhere), its leader is isolated through the fault route, and a
 * write sent to it must be answered within the replica's request deadline.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

type Status = { kind: string; status?: { role: string; leader: number; quiesced: boolean } };

const group = "isolated-quiet-leader";
const stubOf = (id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const post = (stub: DurableObjectStub, path: string, body: unknown) =>
  stub.fetch(`https://replica${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const statusOf = async (stub: DurableObjectStub) => (await (await stub.fetch("https://replica/internal/status")).json()) as Status;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const write = (seq: number) => ({
  epoch: 1,
  command: { clientId: "isolated-leader-client", seq, timeMs: Date.now(), operation: { type: "put", key: "k", valueBase64: btoa(`v${seq}`) } },
});

describe("a quiesced leader cut off from its peers", () => {
  it("answers a write within its request deadline instead of hanging", async () => {
    const voters = [1, 2, 3];
    const stubs = voters.map(stubOf);
    for (const [index, stub] of stubs.entries()) {
      await post(stub, "/internal/bootstrap", { group, replica: voters[index], voters, locations: {}, owns: { default: true }, epoch: 1 });
    }
    await post(stubs[0]!, "/internal/campaign", {});
    let leader = 0;
    for (let round = 0; round < 200 && leader === 0; round++) {
      await sleep(20);
      leader = (await statusOf(stubs[0]!)).status?.leader ?? 0;
    }
    expect(leader).toBeGreaterThan(0);
    const leaderStub = stubOf(leader);
    expect(((await (await post(leaderStub, "/internal/write", write(1))).json()) as { kind: string }).kind).toBe("applied");
    let quiet = false;
    for (let round = 0; round < 300 && !quiet; round++) {
      await sleep(20);
      quiet = (await Promise.all(stubs.map(statusOf))).every((status) => status.status?.quiesced === true);
    }
    expect(quiet).toBe(true);
    for (const id of voters) await post(stubOf(id), "/internal/faults", { isolated: id === leader });
    const started = Date.now();
    const answer = (await (await post(leaderStub, "/internal/write", write(2))).json()) as { kind: string };
    expect(["unknown", "notLeader"]).toContain(answer.kind);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
