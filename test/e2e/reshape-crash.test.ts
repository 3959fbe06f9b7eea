/**
 * Proves that a range move survives crashes of the groups it runs between: 3,000 keys (three copy
 * pages) move into a new prefix group while clients write, read and compare-and-set some of them,
 * and the fault routes crash the source group's leader and then the target group's leader in the
 * middle of it. The move must finish, the clients' history must be linearizable, and every key
 * must arrive once, with its value and version.
 */
import { describe, expect, it } from "vitest";
import { HistoryRecorder, checkHistory, describeKeyFailure } from "../../src/checker/index.ts";
import { call, callJson } from "./client.ts";

const bulk = Array.from({ length: 3000 }, (_, index) => `bulk/${String(index).padStart(4, "0")}`);
const hot = bulk.slice(0, 12);
const json = { "content-type": "application/json" };

async function leaderOf(group: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const inspected = await callJson<{ health?: { leader: number } }>(`/v1/groups/${group}`);
    const leader = inspected.body.health?.leader ?? 0;
    if (leader > 0) return leader;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`group ${group} has no leader`);
}

async function crashLeader(group: string): Promise<void> {
  const replica = await leaderOf(group);
  const fault = await call("/v1/faults", { method: "POST", headers: json, body: JSON.stringify({ kind: "crash", group, replica }) });
  expect(fault.status).toBeLessThan(300);
}

async function client(process: number, history: HistoryRecorder, running: () => boolean): Promise<void> {
  for (let n = 0; running(); n++) {
    const key = hot[(process * 5 + n) % hot.length]!;
    if (n % 2 === 0) {
      const value = `p${process}-${n}`;
      history.invoke(process, "write", key, value);
      const response = await call(`/v1/kv/${key}`, { method: "PUT", body: value });
      history.complete(process, response.status === 200 ? "ok" : "info");
    } else {
      history.invoke(process, "read", key, null);
      const read = await call(`/v1/kv/${key}`);
      if (read.status === 200 || read.status === 404) history.complete(process, "ok", read.status === 200 ? await read.text() : null);
      else history.complete(process, "info");
    }
  }
}

describe("a range move under leader crashes", () => {
  it("finishes, loses nothing, and the history stays linearizable", async () => {
    const history = new HistoryRecorder();
    const versions = new Map<string, number>();
    // Setup, not under test: load the keys, re-sending any the busy machine could not answer in time.
    let missing = [...bulk];
    for (let round = 0; missing.length > 0 && round < 10; round++) {
      const failed: string[] = [];
      for (let first = 0; first < missing.length; first += 250) {
        const operations = missing.slice(first, first + 250).map((key) => ({ op: "put", key, value: `${key}:${"x".repeat(200)}` }));
        const written = await callJson<{ results: { key: string; status: number; version: number }[] }>("/v1/batch", { method: "POST", headers: json, body: JSON.stringify({ operations }) });
        expect(written.status).toBe(200);
        for (const result of written.body.results) {
          if (result.status === 200) versions.set(result.key, result.version);
          else failed.push(result.key);
        }
      }
      missing = failed;
    }
    expect(missing).toEqual([]);
    for (const [index, key] of hot.entries()) {
      history.invoke(100 + index, "write", key, `${key}:${"x".repeat(200)}`);
      const put = await callJson<{ version: number }>(`/v1/kv/${key}`, { method: "PUT", body: `${key}:${"x".repeat(200)}` });
      history.complete(100 + index, put.status === 200 ? "ok" : "info");
    }

    let operating = true;
    const clients = Array.from({ length: 3 }, (_, process) => client(process, history, () => operating));
    // Slow the source group's replication so that the move takes long enough to crash into.
    const delay = await call("/v1/faults", { method: "POST", headers: json, body: JSON.stringify({ kind: "delay", group: "default", fraction: 1, delayMs: 100 }) });
    expect(delay.status).toBeLessThan(300);
    const creating = callJson<{ name: string; ranges: unknown[] }>("/v1/groups", { method: "POST", headers: json, body: JSON.stringify({ name: "bulk", prefix: "bulk/" }) });
    // Crash each group's leader while the move is still running (the new group serves no range yet).
    const crashedMidMove: string[] = [];
    for (const group of ["default", "bulk"]) {
      for (let attempt = 0; attempt < 400; attempt++) {
        const view = await callJson<{ ranges?: unknown[]; health?: { leader: number } }>("/v1/groups/bulk");
        if (view.status === 200 && view.body.ranges?.length === 0 && (view.body.health?.leader ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await crashLeader(group);
      const after = await callJson<{ ranges?: unknown[] }>("/v1/groups/bulk");
      if (after.body.ranges?.length === 0) crashedMidMove.push(group);
    }
    const created = await creating;
    expect(created.status).toBe(201);
    expect(created.body.ranges).toEqual([{ start: "bulk/", end: "bulk0" }]);
    expect(crashedMidMove.length).toBeGreaterThan(0);
    expect((await call("/v1/faults", { method: "DELETE" })).status).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 500));
    operating = false;
    await Promise.all(clients);

    const result = checkHistory(history.operations());
    expect(result.keys.filter((k) => k.outcome === "violation").flatMap(describeKeyFailure)).toEqual([]);
    expect(result.linearizable).toBe(true);

    const seen = new Map<string, { value: string; version: number }>();
    let cursor: string | undefined;
    do {
      const query = `/v1/kv?prefix=bulk/&limit=1000${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await callJson<{ entries: { key: string; value?: string; version: number }[]; cursor?: string }>(query);
      expect(page.status).toBe(200);
      for (const entry of page.body.entries) {
        expect(seen.has(entry.key)).toBe(false);
        seen.set(entry.key, { value: entry.value ?? "", version: entry.version });
      }
      cursor = page.body.cursor;
    } while (cursor !== undefined);
    expect([...seen.keys()]).toEqual(bulk);
    for (const key of bulk) {
      if (hot.includes(key)) expect(seen.get(key)!.version).toBeGreaterThanOrEqual(versions.get(key)!);
      else expect(seen.get(key)).toEqual({ value: `${key}:${"x".repeat(200)}`, version: versions.get(key) });
    }
    const one = await callJson<{ group: string }>(`/v1/kv/${bulk[700]}`, { method: "PUT", body: "after" });
    expect(one.body.group).toBe("bulk");
  });
});
