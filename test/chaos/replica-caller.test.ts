/**
 * Proves two router behaviours the chaos campaign found missing, against a scripted in-memory
 * directory: a replica that knows no leader (an old leader cut off from its peers) makes the
 * caller try the other replicas, which serve under the new leader, instead of asking it again until
 * the deadline; and a replica that never answers cannot hold a call past the retry deadline, with
 * a timer per call (a Worker) or with one sweep for all calls (a Deno node: SweptDeadlines).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GroupDescriptor, ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import { ReplicaCaller, SweptDeadlines } from "../../src/router/cluster-client/replica-caller.ts";

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

  it("gives up on a replica that never answers with one sweep for all calls too, and no call is left waiting", async () => {
    const directory = scriptedDirectory({ 1: "hang", 2: "hang", 3: "hang" });
    const deadlines = new SweptDeadlines(50);
    const started = Date.now();
    const outcomes = await Promise.all([1, 2, 3].map(() => new ReplicaCaller(directory, policy, deadlines).call(group, "/internal/get", {}, false)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["unavailable", "unavailable", "unavailable"]); // a read that never ran
    expect(Date.now() - started).toBeLessThan(policy.deadlineMs + 500);
    expect(deadlines.waitingCount).toBe(0);
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

describe("one sweep for every call's deadline", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes results and errors through, and runs no timer once nothing waits", async () => {
    vi.useFakeTimers();
    const deadlines = new SweptDeadlines(100);
    const far = Date.now() + 10_000;
    await expect(deadlines.race(far, async () => 7)).resolves.toBe(7);
    await expect(deadlines.race(far, () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    await expect(
      deadlines.race(far, () => {
        throw new Error("thrown at once");
      }),
    ).rejects.toThrow("thrown at once");
    expect(deadlines.waitingCount).toBe(0);
    await vi.advanceTimersByTimeAsync(100); // the sweep finds nothing waiting and stops
    expect(vi.getTimerCount()).toBe(0);
  });

  it("fails a call that outlives its deadline within one sweep, and only that call", async () => {
    vi.useFakeTimers();
    const deadlines = new SweptDeadlines(100);
    let finishSlow: (value: string) => void = () => undefined;
    const hung = deadlines.race(Date.now() + 1_000, () => new Promise<string>(() => undefined));
    const slow = deadlines.race(Date.now() + 5_000, () => new Promise<string>((resolve) => (finishSlow = resolve)));
    const hungOutcome = hung.then(() => "answered", (error: Error) => error.message);
    await vi.advanceTimersByTimeAsync(900);
    expect(deadlines.waitingCount).toBe(2);
    await vi.advanceTimersByTimeAsync(200); // the deadline passed, and a sweep ran after it
    expect(await hungOutcome).toBe("no answer before the deadline");
    expect(deadlines.waitingCount).toBe(1);
    finishSlow("late but in time");
    await expect(slow).resolves.toBe("late but in time");
    expect(deadlines.waitingCount).toBe(0);
  });
});
