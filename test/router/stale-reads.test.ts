/**
 * Proves that a `stale` GET asks the replica local to the router first (a Deno node's own replica
 * of the group: no forward to the leader) and takes its answer when it found the key, without
 * taking that replica for the leader; that "absent" from it (what a replica that has not applied
 * its group's ranges or data yet answers), a refusal, or its failure sends the read to the leader
 * as before; and that scans, linearizable reads, and routers without a local replica
 * (Cloudflare's) go to the leader.
 */
import { describe, expect, it } from "vitest";
import type { ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";
import type { SessionPool } from "../../src/router/cluster-client/session-pool.ts";

const group = { name: "orders", replicas: [1, 2, 3].map((id) => ({ id, location: "deno" })), epoch: 1 };
const found = (value: string) => ({ kind: "ok", found: true, valueBase64: btoa(value), version: 7 });

/** Replica 1 leads and holds "new"; replica 2, local to the router, answers `local` (or throws when it is an Error). */
function scripted(local: object | Error, options: { hasLocal?: boolean } = {}) {
  const calls: string[] = [];
  const directory: ReplicaDirectory = {
    call(_group, id, path) {
      calls.push(`${id} ${path}`);
      if (id === 2) return local instanceof Error ? Promise.reject(local) : Promise.resolve(Response.json(local));
      if (id === 1) return Promise.resolve(Response.json(path === "/internal/scan" ? { kind: "ok", entries: [] } : found("new")));
      return Promise.resolve(Response.json({ kind: "notLeader", leader: 1 }));
    },
    ...(options.hasLocal === false ? {} : { localReplica: () => 2 }),
  };
  const caller = new ReplicaCaller(directory);
  return { calls, caller, io: new GroupIo(caller, undefined as unknown as SessionPool) };
}

describe("a stale read", () => {
  it("is served by the router's local replica, which is not taken for the leader", async () => {
    const { calls, caller, io } = scripted(found("old"));
    caller.noteLeader(group.name, 1);
    const read = await io.get(group, "k", "stale");
    expect(read).toEqual({ ok: true, value: { found: true, value: new TextEncoder().encode("old"), version: 7 } });
    expect(calls).toEqual(["2 /internal/get"]);
    expect(caller.leaderOf(group.name)).toBe(1);
  });

  it("goes to the leader when the local replica does not find the key, refuses (wrong range) or cannot be reached", async () => {
    for (const local of [{ kind: "ok", found: false }, { kind: "wrongRange" }, new Error("unreachable")]) {
      const { calls, io } = scripted(local);
      const read = await io.get(group, "k", "stale");
      expect(read).toEqual({ ok: true, value: { found: true, value: new TextEncoder().encode("new"), version: 7 } });
      expect(calls).toEqual(["2 /internal/get", "1 /internal/get"]);
    }
  });

});

describe("other reads", () => {
  it("go to the leader: linearizable ones, stale scans, and stale ones where the router has no local replica", async () => {
    const linearizable = scripted(found("old"));
    expect((await linearizable.io.get(group, "k", "linearizable")).ok).toBe(true);
    expect(linearizable.calls).toEqual(["1 /internal/get"]);
    const scan = scripted({ kind: "ok", entries: [] });
    await scan.io.scan(group, { prefix: "k", limit: 10 }, "stale");
    expect(scan.calls).toEqual(["1 /internal/scan"]);
    const noLocal = scripted(found("old"), { hasLocal: false });
    expect((await noLocal.io.get(group, "k", "stale")).ok).toBe(true);
    expect(noLocal.calls).toEqual(["1 /internal/get"]);
  });
});
