/**
 * Proves, under Deno, that a Deno replica whose driver pass fails does not go on from state that
 * is not on disk: a trigger injected into the node's SQLite file makes the pass applying a write
 * throw; the pass is rolled back, the replica reports itself failed and refuses further work, and
 * a replica opened again from the file has the writes before the failure, not the failed one, and
 * takes new writes once the fault is gone; the failed object never asks the node's ticker for
 * time again. One-voter group, so no peers are needed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
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

function openReplica(storage: NodeStorage, failures: unknown[], wakes: NodeReplica[] = []): NodeReplica {
  return new NodeReplica({ storage, scope: "g/1", timing: {}, send: () => {}, wake: (replica) => wakes.push(replica), failed: (_replica, error) => failures.push(error) });
}

async function valueOf(replica: NodeReplica, key: string): Promise<string | undefined> {
  const read = await replica.runtime!.get(key, "stale");
  if (read.kind !== "ok" || !read.value.ok) throw new Error(`read failed: ${JSON.stringify(read)}`);
  return read.value.record === undefined ? undefined : new TextDecoder().decode(read.value.record.value);
}

describe("a Deno replica whose driver pass fails", () => {
  it("is rolled back, stops, and reopens from its file without the failed write", async () => {
    const path = join(directory, "node.sqlite");
    const failures: unknown[] = [];
    const wakes: NodeReplica[] = [];
    const storage = openStorage(path);
    const first = openReplica(storage, failures, wakes);
    expect(first.bootstrap({ group: "g", replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 })).toBe(true);
    first.runtime!.campaign();
    expect((await first.runtime!.write(put("a", "1"))).kind).toBe("applied");

    const saboteur = new DatabaseSync(path);
    saboteur.exec("CREATE TRIGGER injected BEFORE INSERT ON kv BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
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
    const again = openReplica(reopened, failures);
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
