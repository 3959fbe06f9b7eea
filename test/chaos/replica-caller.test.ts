/**
 * Proves two router behaviours the chaos campaign found missing, against a scripted in-memory
 * directory: a replica that knows no leader (an old leader cut off from its peers) makes the
 * caller try the other replicas, which serve under the new leader, instead of asking it again until
 * the deadline; and a replica that never answers cannot hold a call past the retry deadline.
 */
import { describe, expect, it } from "vitest";
import type { GroupDescriptor, ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";

const group: GroupDescriptor = {
  name: "g",
  replicas: [1, 2, 3].map((id) => ({ id, location: "wnam" })),
  epoch: 1,
};
const policy = { deadlineMs: 1_000, backoffFirstMs: 5, backoffMaxMs: 20 };

/** A directory whose replicas answer with `answers[id]`, or never (`"hang"`); it counts calls per replica. */
function scriptedDirectory(answers: Record<number, Record<string, unknown> | "hang">): ReplicaDirectory & { calls: Map<number, number> } {
  const calls = new Map<number, number>();
  return {
    calls,
    call(_group, id) {
      calls.set(id, (calls.get(id) ?? 0) + 1);
      const answer = answers[id];
      if (answer === "hang") return new Promise<Response>(() => undefined);
      return Promise.resolve(Response.json(answer));
    },
  };
}

describe("the replica caller", () => {
  it("tries the other replicas when the one it asked knows no leader", async () => {
    const directory = scriptedDirectory({
      1: { kind: "notLeader", leader: 0 }, // the old leader, cut off: it lost its leadership and knows no other
      2: { kind: "applied", result: { ok: true } },
      3: { kind: "notLeader", leader: 2 },
    });
    const outcome = await new ReplicaCaller(directory, policy).call(group, "/internal/write", {}, true);
    expect(outcome).toEqual({ kind: "answer", answer: { kind: "applied", result: { ok: true } } });
    expect(directory.calls.get(1)).toBe(1);
  });

  it("gives up on a replica that never answers once the deadline passes", async () => {
    const directory = scriptedDirectory({ 1: "hang", 2: "hang", 3: "hang" });
    const started = Date.now();
    const outcome = await new ReplicaCaller(directory, policy).call(group, "/internal/write", {}, true);
    expect(outcome.kind).toBe("unknown"); // a write that reached a replica may have been applied
    expect(Date.now() - started).toBeLessThan(policy.deadlineMs + 500);
  });

  it("stays with a busy leader", async () => {
    let busyAnswers = 2;
    const calls: number[] = [];
    const directory: ReplicaDirectory = {
      call(_group, id) {
        calls.push(id);
        if (id === 1 && busyAnswers-- > 0) return Promise.resolve(Response.json({ kind: "busy" }));
        return Promise.resolve(Response.json(id === 1 ? { kind: "applied", result: { ok: true } } : { kind: "notLeader", leader: 1 }));
      },
    };
    const outcome = await new ReplicaCaller(directory, policy).call(group, "/internal/write", {}, true);
    expect(outcome.kind).toBe("answer");
    expect(calls).toEqual([1, 1, 1]);
  });
});
