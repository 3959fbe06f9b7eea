/**
 * Proves the router's scan (src/router/cluster-client/scan.ts) over real KV state machines, one
 * per group, reached through a GroupIo stand-in that serves each read from its group's
 * scanOwned: a page made of two groups' reads is read again until two reads agree, so a transfer
 * applied between the two groups' reads (the first read sees half of it) never reaches the
 * answer; a page of one group is read once; a page that meets another transaction's write intent
 * has the intent settled and is read again, showing the committed value; and a span that never
 * stops changing answers unavailable.
 */
import { describe, expect, it } from "vitest";
import type { Operation } from "../../src/kv/command.ts";
import type { KvEntry } from "../../src/kv/store.ts";
import { assignSpan, singleGroupTable } from "../../src/multiraft/keyspace.ts";
import type { GroupIo, GroupResult } from "../../src/router/cluster-client/group-io.ts";
import type { Groups } from "../../src/router/cluster-client/groups.ts";
import type { GroupRecord } from "../../src/router/cluster-client/metadata.ts";
import { scanKeyspace, type ScanContext } from "../../src/router/cluster-client/scan.ts";
import { Harness, put } from "../kv/harness.ts";

const text = (entries: readonly KvEntry[]) => Object.fromEntries(entries.map((entry) => [entry.key, new TextDecoder().decode(entry.value)]));

/** Two groups: g1 serves ["", "m"), g2 from "m" on; `beforeRead` runs before each group read. */
function world() {
  const machines = new Map([["g1", new Harness()], ["g2", new Harness()]]);
  const table = assignSpan(singleGroupTable("range", "g1"), { start: "m" }, "g2");
  const reads: string[] = [];
  const settled: string[] = [];
  let beforeRead = (_group: string, _count: number): void => {};
  const record = (name: string) => ({ name, state: "active", owns: { default: true }, replicas: [], epoch: 1 }) as unknown as GroupRecord;
  const groups = {
    keyspace: async () => ({ ok: true, value: table }),
    activeGroup: async (name: string) => ({ ok: true, value: record(name) }),
    invalidate: () => {},
  } as unknown as Groups;
  const io = {
    scan: async (group: GroupRecord, range: { start?: string; end?: string; limit: number }): Promise<GroupResult<{ entries: KvEntry[]; cursor?: string }>> => {
      reads.push(group.name);
      beforeRead(group.name, reads.length);
      const page = machines.get(group.name)!.machine.scanOwned(range);
      if (!page.ok) return page.code === "intentFound" ? { ok: false, intents: page.intents } : { ok: false, stale: true };
      return { ok: true, value: page.page };
    },
  } as unknown as GroupIo;
  const context: ScanContext = {
    groups,
    io,
    waitForMove: async () => {},
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    settle: async (_keyspace, group, intents) => {
      for (const intent of intents) machines.get(group.name)!.run({ type: "txn", action: "resolve", txn: intent.txn, commit: true });
      settled.push(...intents.map((intent) => intent.key));
      return true;
    },
  };
  const run = (group: string, operation: Operation) => machines.get(group)!.run(operation);
  return { context, reads, settled, run, setBeforeRead: (hook: typeof beforeRead) => (beforeRead = hook) };
}

describe("the router's scan", () => {
  it("reads a page of two groups again until two reads agree, so it never shows half of a transfer", async () => {
    const { context, reads, run, setBeforeRead } = world();
    run("g1", put("a", "100"));
    run("g2", put("z", "100"));
    setBeforeRead((group, count) => {
      if (group !== "g2" || count !== 2) return;
      run("g1", put("a", "70")); // a transfer lands after g1's first read and before g2's
      run("g2", put("z", "130"));
    });
    const page = await scanKeyspace(context, { kind: "shared" }, { limit: 10 }, "linearizable");
    expect(page.ok && text(page.value.entries)).toEqual({ a: "70", z: "130" });
    expect(reads).toEqual(["g1", "g2", "g1", "g2", "g1", "g2"]); // the first read (a 100, z 130) never matched another
  });

  it("reads a page of one group once, and a stale scan's page of two groups once", async () => {
    const { context, reads, run } = world();
    run("g1", put("a", "1"));
    run("g2", put("z", "2"));
    expect(await scanKeyspace(context, { kind: "shared" }, { limit: 10, end: "m" }, "linearizable")).toMatchObject({ ok: true, value: { entries: [{ key: "a" }] } });
    expect(reads).toEqual(["g1"]);
    expect(await scanKeyspace(context, { kind: "shared" }, { limit: 10 }, "stale")).toMatchObject({ ok: true, value: { entries: [{ key: "a" }, { key: "z" }] } });
    expect(reads).toEqual(["g1", "g1", "g2"]);
  });

  it("settles a write intent the page meets and reads again, showing the committed value", async () => {
    const { context, settled, run } = world();
    run("g1", put("a", "100"));
    run("g2", put("z", "100"));
    run("g2", { type: "txn", action: "prepare", txn: "t1", recordKey: "a", deadlineMs: 1_000, ops: [{ type: "put", key: "z", value: new TextEncoder().encode("150") }], reads: [] });
    const page = await scanKeyspace(context, { kind: "shared" }, { limit: 10 }, "linearizable");
    expect(page.ok && text(page.value.entries)).toEqual({ a: "100", z: "150" });
    expect(settled).toEqual(["z"]);
  });

  it("answers unavailable when the span changes between every two reads", async () => {
    const { context, run, setBeforeRead } = world();
    let counter = 0;
    setBeforeRead((group) => void (group === "g2" && run("g2", put("z", String(++counter)))));
    const started = Date.now();
    const page = await scanKeyspace(context, { kind: "shared" }, { limit: 10 }, "linearizable");
    expect(page).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000); // it kept trying for the scan's wait (10 s)
  }, 20_000);
});
