/**
 * Proves, under Deno, that a Deno replica whose driver pass fails does not go on from state that
 * is not on disk: a trigger injected into the node's SQLite file makes the pass appending a write,
 * or the pass writing the state machine back, throw; the pass is rolled back, the replica reports itself failed and refuses further work, and
 * a replica opened again from the file has the writes before the failure, not the failed one, and
 * takes new writes once the fault is gone; the failed object never asks the node's ticker for
 * time again. One-voter group, so no peers are needed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ReplicaTiming } from "../../src/hosts/common/replica-runtime.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import { SyncNotingLogStore } from "../../src/hosts/deno/sync-noting-log-store.ts";
import { afterAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/kv/command.ts";
import { NodeReplica } from "../../src/hosts/deno/node-replica.ts";
import { NodeStorage } from "../../src/hosts/deno/node-storage.ts";

const directory = mkdtempSync(join(tmpdir(), "edgeraft-deno-replica-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let seq = 0;
const put = (key: string, text: string): Command => ({ clientId: "test", seq: ++seq, timeMs: 1_000, operation: { type: "put", key, value: new TextEncoder().encode(text) } });

const openStorage = (path: string) =>
  new NodeStorage(path, {
    failed: (error) => {
      throw error;
    },
  });

function openReplica(storage: NodeStorage, failures: unknown[], wakes: NodeReplica[] = [], settings: { timing?: Partial<ReplicaTiming>; writeBackIntervalMs?: number } = {}): NodeReplica {
  return new NodeReplica({ storage, scope: "g/1", timing: settings.timing ?? {}, ...settings, send: () => {}, wake: (replica) => wakes.push(replica), failed: (_replica, error) => failures.push(error) });
}

async function valueOf(replica: NodeReplica, key: string): Promise<string | undefined> {
  const read = await replica.runtime!.get(key, "stale");
  if (read.kind !== "ok" || !read.value.ok) throw new Error(`read failed: ${JSON.stringify(read)}`);
  return read.value.record === undefined ? undefined : new TextDecoder().decode(read.value.record.value);
}

describe("a Deno replica whose driver pass fails", () => {
  it.each([
    ["appending the write's entry", "raft_log", undefined],
    ["writing the state machine back", "kv", 0],
  ])("is rolled back, stops, and reopens from its file without the failed write (fault: %s)", async (_name, table, writeBackIntervalMs) => {
    const path = join(directory, `node-${table}.sqlite`);
    const failures: unknown[] = [];
    const wakes: NodeReplica[] = [];
    const storage = openStorage(path);
    const first = openReplica(storage, failures, wakes, writeBackIntervalMs === undefined ? {} : { writeBackIntervalMs });
    expect(first.bootstrap({ group: "g", replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 })).toBe(true);
    first.runtime!.campaign();
    expect((await first.runtime!.write(put("a", "1"))).kind).toBe("applied");

    const saboteur = new DatabaseSync(path);
    saboteur.exec(`CREATE TRIGGER injected BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    // The write joins the next group-commit pass, which throws: the request is answered "unknown".
    expect((await first.runtime!.write(put("b", "2"))).kind).toBe("unknown");
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/injected fault/);
    await expect(Promise.resolve().then(() => first.runtime!.write(put("c", "3")))).rejects.toThrow(/being reopened/);
    first.close();
    // Requests the close abandoned end in schedule() and afterWrite() (replica-requests.ts): the
    // closed object must not ask the node's ticker to take it back (its tick would throw forever).
    wakes.length = 0;
    first.schedule();
    first.afterWrite();
    expect(wakes).toEqual([]);
    storage.close();
    saboteur.exec("DROP TRIGGER injected");
    saboteur.close();

    const reopened = openStorage(path);
    const again = openReplica(reopened, failures, [], writeBackIntervalMs === undefined ? {} : { writeBackIntervalMs });
    again.runtime!.campaign();
    expect(await valueOf(again, "a")).toBe("1");
    expect(await valueOf(again, "b")).toBeUndefined();
    expect((await again.runtime!.write(put("b", "2 again"))).kind).toBe("applied");
    expect(await valueOf(again, "b")).toBe("2 again");
    expect(failures).toHaveLength(1);
    again.close();
    reopened.close();
  });
});

/** What the node's file holds for replica g/1, read through a second connection: its records, the applied index of its stored state, and its log's first index. */
function onDisk(path: string): { keys: number; applied: number; logFirst: number } {
  const database = new NodeStorage(path, { failed: () => {} }).database;
  const stored = new SqliteKvStore(database, "g/1");
  const meta = stored.readMeta();
  const applied = meta === undefined ? 0 : new KvStateMachine(stored, { resume: meta, resumeSessions: stored.readSessions() }).appliedIndex;
  const result = { keys: stored.count(), applied, logFirst: new SyncNotingLogStore(database, "g/1").firstIndex() };
  database.close();
  return result;
}

describe("a Deno replica's state machine, written back in batches", () => {
  const bootstrapAndLead = (replica: NodeReplica) => {
    expect(replica.bootstrap({ group: "g", replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 })).toBe(true);
    replica.runtime!.campaign();
  };

  it("keeps changes in memory until a batch is due; a process stopped before then replays them from its synced log, sessions included", async () => {
    const path = join(directory, "write-back.sqlite");
    const failures: unknown[] = [];
    const storage = openStorage(path);
    const first = openReplica(storage, failures, [], { writeBackIntervalMs: 60_000 });
    bootstrapAndLead(first);
    for (const key of ["a", "b", "c"]) expect((await first.runtime!.write(put(key, `${key}1`))).kind).toBe("applied");
    const last = put("d", "d1");
    const answered = await first.runtime!.write(last);
    expect(answered.kind).toBe("applied");
    expect(await valueOf(first, "d")).toBe("d1");
    expect(onDisk(path)).toMatchObject({ keys: 0, applied: 0 }); // acknowledged, in the log, not in the state on disk
    first.close(); // a kill: nothing writes the waiting changes back
    storage.close();

    const reopened = openStorage(path);
    const again = openReplica(reopened, failures, [], { writeBackIntervalMs: 0 });
    again.runtime!.campaign();
    for (const key of ["a", "b", "c", "d"]) expect(await valueOf(again, key)).toBe(`${key}1`);
    // The client's retry of its last write finds its session, replayed from the log: applied once.
    const retried = await again.runtime!.write(last);
    expect(retried).toMatchObject({ kind: "applied", result: (answered as { result: unknown }).result });
    expect((await again.runtime!.write(put("e", "e1"))).kind).toBe("applied");
    const disk = onDisk(path);
    expect(disk.keys).toBe(5); // a batch is due at once with no interval
    expect(disk.applied).toBeGreaterThan(4);
    expect(failures).toEqual([]);
    again.close();
    reopened.close();
  });

  it("writes the state back in the pass that compacts the log past it, so a restart finds every write", async () => {
    const path = join(directory, "write-back-compacted.sqlite");
    const failures: unknown[] = [];
    const storage = openStorage(path);
    const settings = { writeBackIntervalMs: 60_000, timing: { snapshotEntries: 4 } };
    const first = openReplica(storage, failures, [], settings);
    bootstrapAndLead(first);
    // Entries 1 and 2 are the bootstrap's and the leader's; the log is compacted at 4 and 8 applied, not at 11.
    const early: Command = { clientId: "early", seq: 1, timeMs: 1_000, operation: { type: "put", key: "k0", value: new TextEncoder().encode("v0") } };
    const earlyAnswer = await first.runtime!.write(early);
    expect(earlyAnswer.kind).toBe("applied");
    for (let i = 1; i < 9; i++) expect((await first.runtime!.write(put(`k${i}`, `v${i}`))).kind).toBe("applied");
    const disk = onDisk(path);
    expect(disk.logFirst).toBe(9);
    expect(disk.applied).toBeGreaterThanOrEqual(disk.logFirst - 1); // the invariant
    expect(disk.keys).toBe(6); // k0 to k5, entries 3 to 8; the three writes after the last compaction wait in memory
    first.close();
    storage.close();

    const reopened = openStorage(path);
    const again = openReplica(reopened, failures, [], settings);
    again.runtime!.campaign();
    for (let i = 0; i < 9; i++) expect(await valueOf(again, `k${i}`)).toBe(`v${i}`);
    // The session of a write before the last compaction was written back with it: a retry is not applied again.
    expect(await again.runtime!.write(early)).toMatchObject({ kind: "applied", result: (earlyAnswer as { result: unknown }).result });
    expect(failures).toEqual([]);
    again.close();
    reopened.close();
  });

  it("writes the state back when its group goes quiet, so nothing waits in memory while it sleeps", async () => {
    const path = join(directory, "write-back-quiet.sqlite");
    const failures: unknown[] = [];
    const storage = openStorage(path);
    const replica = openReplica(storage, failures, [], { writeBackIntervalMs: 60_000, timing: { tickMs: 5 } });
    bootstrapAndLead(replica);
    for (const key of ["a", "b"]) expect((await replica.runtime!.write(put(key, "1"))).kind).toBe("applied");
    expect(onDisk(path).keys).toBe(0);
    for (let i = 0; i < 400 && !replica.runtime!.node.brief().quiesced; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      replica.tick(Date.now());
    }
    expect(replica.runtime!.node.brief().quiesced).toBe(true);
    await storage.whenSynced(); // the pass that went quiet is committed
    expect(onDisk(path).keys).toBe(2);
    expect(failures).toEqual([]);
    replica.close();
    storage.close();
  });
});
