/**
 * Proves that a group's create saga lets the group's first election finish before its next step
 * (the write of the group's first spans) reaches a replica: against a scripted directory, it
 * bootstraps every replica, asks replica 1 to campaign, then asks replica 1 who leads (a question
 * that starts no election) until it names a leader, whom the caller then remembers; when replica 1
 * cannot be reached it goes on at once, as before.
 */
import { describe, expect, it } from "vitest";
import type { ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import type { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { Metadata, type GroupRecord } from "../../src/router/cluster-client/metadata.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";

const record: GroupRecord = {
  name: "orders",
  state: "creating",
  owns: { prefix: "orders/" },
  replicas: [1, 2, 3].map((id) => ({ id, location: "deno" })),
  epoch: 1,
};

/** A directory whose replica 1 is a candidate for `undecidedAnswers` leadership questions, then leads; it records every call. */
function firstElection(options: { undecidedAnswers: number; unreachable?: boolean }) {
  const calls: string[] = [];
  let undecided = options.undecidedAnswers;
  const directory: ReplicaDirectory = {
    call(_group, id, path) {
      calls.push(`${id} ${path}`);
      if (path !== "/internal/leadership") return Promise.resolve(Response.json({ ok: true }));
      if (options.unreachable === true) return Promise.reject(new Error("replica 1 is unreachable"));
      const leader = undecided-- > 0 ? 0 : 1;
      return Promise.resolve(Response.json({ kind: "ok", role: leader === 1 ? "leader" : "candidate", term: 2, leader, transferee: 0 }));
    },
  };
  return { calls, directory };
}

describe("the create saga", () => {
  it("waits until replica 1's first election has a leader before it goes on", async () => {
    const { calls, directory } = firstElection({ undecidedAnswers: 3 });
    const caller = new ReplicaCaller(directory);
    await new Metadata(undefined as unknown as GroupIo, caller, ["deno"]).bootstrapGroup(record);
    expect(calls.slice(0, 3).sort()).toEqual(["1 /internal/bootstrap", "2 /internal/bootstrap", "3 /internal/bootstrap"]);
    expect(calls.slice(3)).toEqual(["1 /internal/campaign", ...Array.from({ length: 4 }, () => "1 /internal/leadership")]);
    expect(caller.leaderOf(record.name)).toBe(1);
  });

  it("goes on at once when replica 1 cannot be asked who leads", async () => {
    const { calls, directory } = firstElection({ undecidedAnswers: 0, unreachable: true });
    await new Metadata(undefined as unknown as GroupIo, new ReplicaCaller(directory), ["deno"]).bootstrapGroup(record);
    expect(calls.slice(3)).toEqual(["1 /internal/campaign", "1 /internal/leadership"]);
  });
});
