/**
 * Proves the replica's Raft route inside workerd speaks the binary wire format: a binary batch is
 * stepped and answered with a binary batch, and a body that is not one (random bytes, the older
 * JSON format, a truncated batch) gets a 400 badRequest that says why and changes nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch } from "../../src/multiraft/wire.ts";
import type { Message, MessageType } from "../../src/raft/types.ts";

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const raft = (stub: DurableObjectStub, body: Uint8Array | string) =>
  stub.fetch("https://replica/internal/raft", { method: "POST", body, headers: { "content-type": "application/octet-stream" } });

function messageOf(type: MessageType, fields: Partial<Message>): Message {
  return {
    type, from: 0, to: 0, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    context: "", snapshot: null, quiesce: false, transfer: false, lease: false, ...fields,
  };
}

async function bootstrapped(group: string): Promise<DurableObjectStub> {
  const stub = stubOf(group, 1);
  const body = JSON.stringify({ group, replica: 1, voters: [1, 2], locations: {}, owns: { default: true }, epoch: 1 });
  const response = await stub.fetch("https://replica/internal/bootstrap", { method: "POST", body, headers: { "content-type": "application/json" } });
  expect(response.status).toBe(200);
  return stub;
}

describe("the /internal/raft route", () => {
  it("steps a binary batch and answers with a binary batch", async () => {
    const stub = await bootstrapped("wire-route");
    const vote = messageOf("vote", { from: 2, to: 1, term: 5, logTerm: 5, index: 1_000 });
    const response = await raft(stub, encodeBatch({ group: "wire-route", from: 2, to: 1, messages: [vote] }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    const decoded = decodeBatch(new Uint8Array(await response.arrayBuffer()));
    expect(decoded.ok && { group: decoded.batch.group, from: decoded.batch.from, to: decoded.batch.to }).toEqual({ group: "wire-route", from: 1, to: 2 });
    const replies = decoded.ok ? decoded.batch.messages : [];
    expect(replies.some((m) => m.type === "voteResp" && m.to === 2 && m.term === 5)).toBe(true);
  });

  it("refuses a body that is not a batch with a 400 that says why", async () => {
    const stub = await bootstrapped("wire-route-refusals");
    const valid = encodeBatch({ group: "wire-route-refusals", from: 2, to: 1, messages: [messageOf("heartbeat", { from: 2, to: 1, term: 1 })] });
    const bodies: [Uint8Array | string, RegExp][] = [
      ['{"group":"wire-route-refusals","from":2,"to":1,"messages":[]}', /older JSON wire format/],
      [Uint8Array.of(0xeb, 99), /wire format version 99/],
      [valid.subarray(0, valid.length - 1), /message count is malformed or larger than the body/],
      [Uint8Array.of(...valid, 0), /1 bytes follow the last message/],
    ];
    for (const [body, error] of bodies) {
      const response = await raft(stub, body);
      expect(response.status).toBe(400);
      const answer = (await response.json()) as { kind: string; error: string };
      expect(answer.kind).toBe("badRequest");
      expect(answer.error).toMatch(error);
    }
    const status = (await (await stub.fetch("https://replica/internal/status")).json()) as { traffic: { received: { batches: number } } };
    expect(status.traffic.received.batches).toBe(0);
  });
});
