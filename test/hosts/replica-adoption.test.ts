/**
 * Proves when a Deno node adopts a replica that has no rows (replica-adoption.ts), with the group's
 * members answered by a fake `call`: a group whose members' logs hold no more than the bootstrap
 * entry is not adopted however high their terms (elections that failed); a group whose log went past it is adopted at the highest term any member reports,
 * members named only in another member's configuration asked too; a member that does not answer
 * holds the adoption back until it does. A bootstrap request founds the replica of a new group as
 * asked, adopts it when the group went past its bootstrap (leaving out a member that does not
 * answer), and is answered 503 when too few members answered to know. An adopted replica's leader,
 * and members that still follow its lost self, are woken (/internal/wake). When a peer node connects,
 * a quiet leader with a replica there is probed and woken, and a quiet follower whose leader is
 * there is woken unless that leader answers that it still leads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReplicaAnswer } from "../../src/hosts/common/replica-requests.ts";
import type { NodeReplica } from "../../src/hosts/deno/node-replica.ts";
import { ReplicaAdoption } from "../../src/hosts/deno/replica-adoption.ts";

/** A member's /internal/leadership answer: term, last index, configuration. */
const leadership = (term: number, lastIndex: number, members = [1, 2, 3], seen: { role: string; leader: number } = { role: "follower", leader: 0 }): ReplicaAnswer => ({
  status: 200,
  body: { kind: "ok", ...seen, term, transferee: 0, lastIndex, members, owns: { tenant: "acme" }, epoch: 3 },
});

/** An adoption over members whose answers `answers` gives (undefined: the call never settles), on a node that has the replicas `here`. */
function harness(answers: Map<number, ReplicaAnswer | undefined>, here: NodeReplica[] = []) {
  const asked: number[] = [];
  const adopted: { replica: number; fenceTerm: number }[] = [];
  const identities: unknown[] = [];
  /** The /internal/wake calls made once a replica was adopted: to whom, and for which lost replica. */
  const woken: { member: number; lost: unknown }[] = [];
  const adoption = new ReplicaAdoption({
    call: (_group, member, path, body) => {
      if (path === "/internal/wake") {
        woken.push({ member, lost: (body as { lost: unknown }).lost });
        return Promise.resolve({ status: 200, body: { ok: true } });
      }
      expect(path).toBe("/internal/leadership");
      asked.push(member);
      const answer = answers.get(member);
      return answer === undefined ? new Promise(() => undefined) : Promise.resolve(answer);
    },
    replicaHere: (group, replica) => here.find((candidate) => candidate.identity?.group === group && candidate.identity.replica === replica),
    replicaAt: (_group, replica) => ({ adopt: (request: { owns: unknown; epoch: number }, fenceTerm: number) => (adopted.push({ replica, fenceTerm }), identities.push({ owns: request.owns, epoch: request.epoch }), true) }) as unknown as NodeReplica,
  });
  return { adoption, asked, adopted, identities, woken };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(console, "log").mockImplementation(() => undefined); // the replicaAdopted event
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("ReplicaAdoption", () => {
  it("leaves a group whose logs hold only the bootstrap entry to its bootstrap request, whatever the terms", async () => {
    const { adoption, asked, adopted } = harness(new Map([[1, leadership(9, 1)], [3, leadership(1, 1)]]));
    adoption.request("g", 2, 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(new Set(asked)).toEqual(new Set([1, 3])); // both other members were asked
    expect(adopted).toEqual([]);
  });

  it("adopts a group whose log went past its bootstrap, at the highest term, asking members named in a configuration", async () => {
    const answers = new Map([[1, leadership(3, 7, [1, 2, 3, 4])], [3, leadership(5, 1)], [4, leadership(4, 7)]]);
    const { adoption, asked, adopted, identities } = harness(answers);
    adoption.request("g", 2, 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(new Set(asked)).toEqual(new Set([1, 3, 4])); // 3 and 4 only through member 1's configuration
    expect(adopted).toEqual([{ replica: 2, fenceTerm: 5 }]);
    expect(identities).toEqual([{ owns: { tenant: "acme" }, epoch: 3 }]); // the group's, as its members hold it
  });

  it("wakes, once the replica is adopted, the member that leads and those that still follow its lost self, and no other", async () => {
    const led = { role: "leader", leader: 1 };
    const { adoption, woken } = harness(new Map([[1, leadership(5, 7, [1, 2, 3, 4], led)], [3, leadership(5, 7, [1, 2, 3, 4], { role: "follower", leader: 1 })], [4, leadership(4, 7, [1, 2, 3, 4], { role: "follower", leader: 2 })]]));
    adoption.request("g", 2, 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(woken).toEqual([{ member: 1, lost: 2 }, { member: 4, lost: 2 }]); // 4 still trusted replica 2, lost with its data, as leader of an older term
    const { adoption: notAdopted, woken: none } = harness(new Map([[1, leadership(5, 1, [1, 2, 3], led)], [3, leadership(5, 1)]]));
    notAdopted.request("g", 2, 1); // a group that never went past its bootstrap: nothing adopted, nobody woken
    await vi.advanceTimersByTimeAsync(100);
    expect(none).toEqual([]);
  });

  it("waits for a member that does not answer, and adopts once it does", async () => {
    const answers = new Map<number, ReplicaAnswer | undefined>([[1, leadership(3, 7)], [3, undefined]]);
    const { adoption, adopted } = harness(answers);
    adoption.request("g", 2, 1);
    await vi.advanceTimersByTimeAsync(10_000); // past the wait for member 3
    expect(adopted).toEqual([]);
    answers.set(3, leadership(6, 7));
    adoption.request("g", 2, 1); // the group's next messages
    await vi.advanceTimersByTimeAsync(100);
    expect(adopted).toEqual([{ replica: 2, fenceTerm: 6 }]);
  });
});

describe("ReplicaAdoption at a bootstrap request", () => {
  const request = { group: "g", replica: 2, voters: [1, 2, 3], locations: {}, owns: { prefix: "p/" }, epoch: 1 };
  const founding = () => {
    const founded: unknown[] = [];
    return { founded, found: (asked: unknown) => (founded.push(asked), Promise.resolve({ status: 200, body: { ok: true } })) };
  };

  it("founds a new group's replica as asked", async () => {
    const { adoption, adopted } = harness(new Map([[1, leadership(2, 1)], [3, { status: 503, body: { kind: "uninitialized" } }]]));
    const { founded, found } = founding();
    expect(await adoption.bootstrap(request, found)).toEqual({ status: 200, body: { ok: true } });
    expect(founded).toEqual([request]);
    expect(adopted).toEqual([]);
  });

  it("adopts the replica when the group went past its bootstrap, leaving out a member that does not answer", async () => {
    const { adoption, adopted, identities } = harness(new Map([[1, leadership(4, 9)], [3, undefined]]));
    const { founded, found } = founding();
    const answer = adoption.bootstrap(request, found);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answer).toEqual({ status: 200, body: { ok: true } });
    expect(founded).toEqual([]);
    expect(adopted).toEqual([{ replica: 2, fenceTerm: 4 }]);
    expect(identities).toEqual([{ owns: { prefix: "p/" }, epoch: 1 }]); // the request's
  });

  it("answers 503 when no other member answered (a node just started), founding nothing", async () => {
    const { adoption, adopted } = harness(new Map([[1, undefined], [3, undefined]]));
    const { founded, found } = founding();
    const answer = adoption.bootstrap(request, found);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answer).toEqual({ status: 503, body: { kind: "uninitialized" } });
    expect([founded, adopted]).toEqual([[], []]);
  });

  it("founds a joining replica without asking, and refuses malformed voters", async () => {
    const { adoption, asked } = harness(new Map());
    const { founded, found } = founding();
    await adoption.bootstrap({ ...request, join: true }, found);
    expect(founded).toHaveLength(1);
    expect(asked).toEqual([]);
    expect(await adoption.bootstrap({ ...request, voters: "1,2,3" as unknown as number[] }, found)).toEqual({ status: 400, body: { kind: "badRequest" } });
    expect(founded).toHaveLength(1);
  });
});

describe("ReplicaAdoption when a peer node connects", () => {
  /** A replica of group `g` here (`role`, quiet or not, believing in `leader` at term 4), placed by `nodeOf` below; records wakes and probes. */
  /** The replicas the node has now (what replicaHere finds); each test's start with none. */
  let here: NodeReplica[] = [];
  beforeEach(() => {
    here = [];
  });
  function replicaHere(id: number, role: "leader" | "follower", leader: number, quiesced = true) {
    const events: string[] = [];
    const brief = { role, leader, term: 4, quiesced };
    const replica = {
      identity: { group: "g", replica: id },
      runtime: {
        node: { brief: () => brief, status: () => ({ conf: { voters: [1, 2, 3], learners: [] } }) },
        unreachable: (member: number) => events.push(`probe ${member}`),
      },
      wake: () => {
        events.push("wake");
        brief.quiesced = false;
      },
    } as unknown as NodeReplica;
    here.push(replica);
    return { replica, events, brief };
  }
  /** Replica n of group g lives on node n. */
  const nodeOf = (_group: string, replica: number) => replica;

  it("probes and wakes a quiet leader's replica on that node, and leaves an awake leader alone", () => {
    const { adoption, asked } = harness(new Map(), here);
    const quiet = replicaHere(1, "leader", 1);
    const awake = replicaHere(1, "leader", 1, false);
    adoption.peerConnected(2, [quiet.replica, awake.replica], nodeOf);
    expect(quiet.events).toEqual(["probe 2", "wake"]);
    expect(awake.events).toEqual([]);
    expect(asked).toEqual([]);
  });

  it("wakes a quiet follower whose leader on that node has no rows (lost with its data directory)", async () => {
    const { adoption, asked } = harness(new Map([[2, { status: 200, body: { kind: "uninitialized" } }]]), here);
    const follower = replicaHere(1, "follower", 2);
    adoption.peerConnected(2, [follower.replica], nodeOf);
    await vi.advanceTimersByTimeAsync(10);
    expect(asked).toEqual([2]);
    expect(follower.events).toEqual(["wake"]);
  });

  it("leaves a quiet follower whose leader there still leads in its term quiet, and wakes one whose leader stepped down or does not answer", async () => {
    const stillLeads = { status: 200, body: { kind: "ok", role: "leader", term: 4, leader: 2, transferee: 0, lastIndex: 9, members: [1, 2, 3] } };
    const { adoption } = harness(new Map([[2, stillLeads], [3, undefined]]), here);
    const trusting = replicaHere(1, "follower", 2);
    const unanswered = replicaHere(2, "follower", 3);
    adoption.peerConnected(2, [trusting.replica], nodeOf);
    adoption.peerConnected(3, [unanswered.replica], nodeOf);
    await vi.advanceTimersByTimeAsync(4_000);
    expect([trusting.events, unanswered.events]).toEqual([[], []]);
    await vi.advanceTimersByTimeAsync(2_000); // past the 5 s an unanswered leader is given
    expect([trusting.events, unanswered.events]).toEqual([[], ["wake"]]);

    here.length = 0; // another node, with a follower of its own
    const { adoption: another } = harness(new Map([[2, { ...stillLeads, body: { ...stillLeads.body, term: 5 } }]]), here);
    const outdated = replicaHere(1, "follower", 2);
    another.peerConnected(2, [outdated.replica], nodeOf);
    await vi.advanceTimersByTimeAsync(10);
    expect(outdated.events).toEqual(["wake"]); // it leads, but in a term this follower does not know
  });

  it("does not ask about a follower whose leader is on another node, or one that is awake or was woken meanwhile", async () => {
    const { adoption, asked } = harness(new Map([[2, { status: 200, body: { kind: "uninitialized" } }]]), here);
    const elsewhere = replicaHere(1, "follower", 3);
    const awake = replicaHere(1, "follower", 2, false);
    const wokenMeanwhile = replicaHere(3, "follower", 2);
    adoption.peerConnected(2, [elsewhere.replica, awake.replica, wokenMeanwhile.replica], nodeOf);
    wokenMeanwhile.brief.quiesced = false; // a message from its group arrived before the answer
    await vi.advanceTimersByTimeAsync(10);
    expect(asked).toEqual([2]);
    expect([elsewhere.events, awake.events, wokenMeanwhile.events]).toEqual([[], [], []]);
  });

  it("wakes the replica the node has when the answer comes, not one it reopened meanwhile", async () => {
    const { adoption } = harness(new Map([[2, { status: 200, body: { kind: "uninitialized" } }]]), here);
    const before = replicaHere(1, "follower", 2);
    adoption.peerConnected(2, [before.replica], nodeOf);
    here.length = 0; // a failed pass: the node reopened it, from its quiet note
    const reopened = replicaHere(1, "follower", 2);
    await vi.advanceTimersByTimeAsync(10);
    expect([before.events, reopened.events]).toEqual([[], ["wake"]]);
  });
});
