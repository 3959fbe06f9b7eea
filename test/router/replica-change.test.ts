/**
 * Proves two things of a group's membership change (cluster-client/replicas.ts) against a scripted
 * leader whose answers come at once, as a Deno node's own replica answers its router in-process,
 * and whose proposals take effect only once the event loop turns (their entries must be sent and
 * acknowledged): the change finishes in a few polls instead of spinning on refused proposals until
 * its 30 s deadline, and a refused proposal is made again at the next poll; and an add sent again while an add is recorded (after a 503) finishes that add
 * and answers its replica, instead of adding another.
 */
import { describe, expect, it } from "vitest";
import type { ConfChangeSingle, ConfState } from "../../src/raft/types.ts";
import type { ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import type { Groups } from "../../src/router/cluster-client/groups.ts";
import type { GroupRecord, Metadata } from "../../src/router/cluster-client/metadata.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";
import { Replicas } from "../../src/router/cluster-client/replicas.ts";

/** The metadata group holding one record, with compare-and-set on its version. */
function metadataOf(initial: GroupRecord) {
  let current = { value: initial, version: 1 };
  const meta = {
    read: () => Promise.resolve({ ok: true, value: current }),
    apply: (steps: { value: Uint8Array; condition?: { ifVersion: number } }[]) => {
      for (const step of steps) {
        if (step.condition !== undefined && step.condition.ifVersion !== current.version) return Promise.resolve({ ok: false, error: { code: "conditionFailed" } });
        current = { value: JSON.parse(new TextDecoder().decode(step.value)) as GroupRecord, version: current.version + 1 };
      }
      return Promise.resolve({ ok: true, value: true });
    },
  };
  return { meta: meta as unknown as Metadata, record: () => current.value };
}

/**
 * A leader (replica 1) answering at once; a proposal applies a task later, and another is refused
 * meanwhile, as are the first `refuseFirst` proposals (a new leader yet to apply its own pending change).
 */
function inProcessLeader(refuseFirst = 0) {
  const conf: ConfState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const calls: string[] = [];
  let pending = false;
  let refusals = refuseFirst;
  const view = (refused?: string) => ({ kind: "ok", leader: 1, term: 2, conf: structuredClone(conf), commit: 10, match: { 1: 10, 2: 10, 3: 10, 4: 10, 5: 10 }, ...(refused === undefined ? {} : { refused }) });
  const directory: ReplicaDirectory = {
    call(_group, id, path, body) {
      calls.push(`${id} ${path}`);
      if (path !== "/internal/membership") return Promise.resolve(Response.json({ ok: true }));
      const changes = (body as { changes?: ConfChangeSingle[] }).changes ?? [];
      if (changes.length === 0) return Promise.resolve(Response.json(view()));
      calls.push("proposal");
      if (pending || refusals-- > 0) return Promise.resolve(Response.json(view("confChangePending")));
      pending = true;
      setTimeout(() => {
        pending = false;
        for (const change of changes) {
          if (change.type === "addLearner") conf.learners.push(change.node);
          if (change.type === "addVoter") {
            conf.learners = conf.learners.filter((node) => node !== change.node);
            conf.voters.push(change.node);
          }
        }
      }, 0);
      return Promise.resolve(Response.json(view()));
    },
  };
  return { directory, calls, conf };
}

const recordAdding: GroupRecord = {
  name: "orders",
  state: "active",
  owns: { prefix: "orders/" },
  replicas: [1, 2, 3, 4].map((id) => ({ id, location: "wnam" })),
  epoch: 1,
  replicaIdNext: 5,
  replicaChange: { add: 4 },
};

describe("a membership change", () => {
  it("finishes an add recorded before (sent again after a 503) without spinning on an in-process leader, and answers its replica", async () => {
    const { meta, record } = metadataOf(recordAdding);
    const leader = inProcessLeader();
    const replicas = new Replicas({ groups: { invalidate() {} } as unknown as Groups, meta, caller: new ReplicaCaller(leader.directory), locations: ["wnam"] });
    const startedMs = Date.now();
    const added = await replicas.add("orders");
    expect(Date.now() - startedMs).toBeLessThan(5_000);
    expect(added.ok && added.value.replica).toBe(4);
    expect(leader.conf.voters).toEqual([1, 2, 3, 4]);
    expect(record().replicas.map((replica) => replica.id)).toEqual([1, 2, 3, 4]);
    expect(record().replicaChange).toBeUndefined();
    // Replica 4 was asked to start, and no fifth replica was.
    expect(leader.calls.filter((call) => call.endsWith("/internal/bootstrap"))).toEqual(["4 /internal/bootstrap"]);
  });

  it("proposes a refused change again at the next poll, not a second later", async () => {
    const { meta } = metadataOf(recordAdding);
    const leader = inProcessLeader(3);
    const replicas = new Replicas({ groups: { invalidate() {} } as unknown as Groups, meta, caller: new ReplicaCaller(leader.directory), locations: ["wnam"] });
    const added = await replicas.add("orders");
    expect(added.ok && added.value.replica).toBe(4);
    // Between a refused proposal and the next: one look at the configuration (after the 50 ms poll), not a second's worth of them.
    const membership = leader.calls.filter((call) => call === "proposal" || call.endsWith("/internal/membership"));
    const looksBetween = membership.join(" ").split("proposal").slice(1, 4).map((between) => between.trim().split(" ").filter((call) => call.endsWith("/internal/membership")).length);
    expect(looksBetween).toEqual([2, 2, 2]); // the refused call itself, then one look
  });

  it("starts another add when the recorded one was for another location", async () => {
    const { meta, record } = metadataOf(recordAdding);
    const leader = inProcessLeader();
    const replicas = new Replicas({ groups: { invalidate() {} } as unknown as Groups, meta, caller: new ReplicaCaller(leader.directory), locations: ["wnam", "weur"] });
    const added = await replicas.add("orders", "weur");
    expect(added.ok && added.value.replica).toBe(5);
    expect(record().replicas.map((replica) => `${replica.id}@${replica.location}`)).toEqual(["1@wnam", "2@wnam", "3@wnam", "4@wnam", "5@weur"]);
    expect(leader.conf.voters).toEqual([1, 2, 3, 4, 5]);
  });
});
