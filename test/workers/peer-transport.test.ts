/**
 * Proves the replica transport's batching over a fake Durable Object namespace whose fetches the
 * test answers by hand: at most two requests in flight per peer, what is handed over meanwhile
 * leaves together in the next request, a request that never answers stops holding the window
 * back after two seconds, replies ride on responses, and a failed request reports the peer
 * unreachable and replaces its stub. (Runs in workerd for the Workers types; the replica objects themselves are covered by the other tests here.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { PeerTransport } from "../../src/hosts/cloudflare/transport.ts";
import { decodeBatch, encodeBatch } from "../../src/multiraft/wire.ts";
import { message } from "../../src/raft/raft.ts";
import type { Message } from "../../src/raft/types.ts";

/** One fetch the transport made, answered when the test says so. */
interface PendingFetch {
  peer: string;
  messages: Message[];
  answer(response: Response): void;
  fail(error: Error): void;
}

function fakeNamespace() {
  const fetches: PendingFetch[] = [];
  let stubsMade = 0;
  const namespace = {
    idFromName: (name: string) => name,
    get: (id: string) => {
      stubsMade++;
      return {
        fetch: (_url: string, init: { body: Uint8Array }) =>
          new Promise<Response>((resolve, reject) => {
            const decoded = decodeBatch(init.body);
            if (!decoded.ok) throw new Error(decoded.error);
            fetches.push({ peer: id, messages: decoded.batch.messages, answer: resolve, fail: reject });
          }),
      };
    },
  };
  return { namespace: namespace as unknown as DurableObjectNamespace, fetches, stubsMade: () => stubsMade };
}

function transportOver(fake: ReturnType<typeof fakeNamespace>) {
  const replies: Message[] = [];
  const unreachable: number[] = [];
  const transport = new PeerTransport({
    namespace: fake.namespace,
    group: "g",
    self: 1,
    locations: {},
    onReplies: (messages) => replies.push(...messages),
    onUnreachable: (peer) => unreachable.push(peer),
  });
  return { transport, replies, unreachable };
}

const heartbeat = (index: number): Message => message("heartbeat", { from: 1, to: 2, term: 1, index });
const indexes = (fetch: PendingFetch | undefined) => fetch?.messages.map((m) => m.index);
const emptyReply = () => new Response(encodeBatch({ group: "g", from: 2, to: 1, messages: [] }));
/** Lets the transport's promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("PeerTransport", () => {
  it("keeps two requests in flight per peer and sends what arrives meanwhile together in the next", async () => {
    const fake = fakeNamespace();
    const { transport } = transportOver(fake);
    for (let i = 1; i <= 5; i++) transport.send(2, [heartbeat(i)]);
    expect(fake.fetches.map(indexes)).toEqual([[1], [2]]);
    fake.fetches[0]!.answer(emptyReply());
    await settle();
    expect(fake.fetches.map(indexes)).toEqual([[1], [2], [3, 4, 5]]);
    transport.send(3, [heartbeat(9)]); // another peer has its own window
    expect(fake.fetches.at(-1)?.peer).toBe("g/3");
    expect(transport.counters).toMatchObject({ batchesSent: 4, messagesSent: 6 });
  });

  it("stops waiting for a request that has not answered in two seconds", async () => {
    let now = 1_000_000;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    const fake = fakeNamespace();
    const { transport } = transportOver(fake);
    transport.send(2, [heartbeat(1)]);
    transport.send(2, [heartbeat(2)]);
    transport.send(2, [heartbeat(3)]);
    expect(fake.fetches).toHaveLength(2); // both slots taken by requests that never answer
    now += 1_999;
    transport.send(2, [heartbeat(4)]);
    expect(fake.fetches).toHaveLength(2);
    now += 2;
    transport.send(2, [heartbeat(5)]);
    expect(fake.fetches.map(indexes)).toEqual([[1], [2], [3, 4, 5]]);
    transport.send(2, [heartbeat(6)]); // the window is the new request and this one
    expect(fake.fetches.map(indexes)).toEqual([[1], [2], [3, 4, 5], [6]]);
    transport.send(2, [heartbeat(7)]);
    fake.fetches[0]!.answer(emptyReply()); // a forgotten request answering late frees no slot
    await settle();
    expect(fake.fetches).toHaveLength(4);
    fake.fetches[2]!.answer(emptyReply());
    await settle();
    expect(fake.fetches.map(indexes).at(-1)).toEqual([7]);
  });

  it("hands the replies on a response to the replica", async () => {
    const fake = fakeNamespace();
    const { transport, replies } = transportOver(fake);
    transport.send(2, [heartbeat(1)]);
    const answer = message("heartbeatResp", { from: 2, to: 1, term: 1, index: 1 });
    fake.fetches[0]!.answer(new Response(encodeBatch({ group: "g", from: 2, to: 1, messages: [answer] })));
    await settle();
    expect(replies).toEqual([answer]);
  });

  it("reports a failed request's peer unreachable and makes a new stub for the next", async () => {
    const fake = fakeNamespace();
    const { transport, unreachable } = transportOver(fake);
    transport.send(2, [heartbeat(1)]);
    expect(fake.stubsMade()).toBe(1);
    fake.fetches[0]!.fail(new Error("the object was reset"));
    await settle();
    expect(unreachable).toEqual([2]);
    expect(transport.counters.batchesFailed).toBe(1);
    transport.send(2, [heartbeat(2)]);
    expect(fake.stubsMade()).toBe(2);
    expect(indexes(fake.fetches[1])).toEqual([2]);
  });

  it("sends nothing from an isolated replica, and drops what the drop fraction says", () => {
    const fake = fakeNamespace();
    const { transport } = transportOver(fake);
    transport.faults = { ...transport.faults, isolated: true };
    transport.send(2, [heartbeat(1)]);
    transport.faults = { ...transport.faults, isolated: false, dropFraction: 1 };
    transport.send(2, [heartbeat(2)]);
    expect(fake.fetches).toHaveLength(0);
    transport.faults = { ...transport.faults, dropFraction: 0 };
    transport.send(2, [heartbeat(3)]);
    expect(fake.fetches.map(indexes)).toEqual([[3]]);
  });
});
