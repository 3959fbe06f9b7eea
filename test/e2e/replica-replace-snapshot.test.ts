/**
 * Proves a replacement replica catches up by snapshot when the log it needs is gone: on its own
 * wrangler dev with a small snapshot threshold (RAFT_SNAPSHOT_ENTRIES=20) a tenant group takes
 * 80 writes, so its leader has compacted its log well past the start, then a follower is replaced
 * while five recorded clients write, read and compare-and-set. The new replica (4) joins as a
 * learner with an empty log: the logs show the leader sending it a snapshot and replica 4
 * installing it; the history passes the linearizability checker, every remaining replica has
 * applied the new membership, and replica 4 has caught up with its leader's commit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HistoryRecorder } from "../../src/checker/index.ts";
import { EdgeraftClient, type GroupDetail } from "../../src/client/index.ts";
import { expectLinearizableReadBack, historyClient, recordedPut } from "./history-client.ts";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

const tenant = "replace-snapshot";
const group = `tenant-${tenant}`;
const keys = ["x", "y", "z"];
const path = (key: string) => `/v1/tenants/${tenant}/kv/${key}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type Line = { event?: string; group?: string; replica?: number; to?: number; index?: number };

/** The structured log lines in wrangler dev's output. */
function logLines(output: string): Line[] {
  return output.split("\n").flatMap((line) => {
    const start = line.indexOf('{"level":');
    if (start < 0) return [];
    try {
      return [JSON.parse(line.slice(start)) as Line];
    } catch {
      return [];
    }
  });
}

describe("replacing a replica whose group compacted its log", () => {
  it("catches the new replica up by snapshot under concurrent writes, linearizable, with the new membership everywhere", async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-replace-snapshot-"));
    const running = await startWrangler({ persistDir, vars: { RAFT_SNAPSHOT_ENTRIES: "20", LOG_LEVEL: "info", LEADER_BALANCE_MS: "off" } });
    try {
      const call = (requestPath: string, init: RequestInit = {}) =>
        fetch(`${running.url}${requestPath}`, { ...init, headers: { authorization: `Bearer ${e2eAdminToken}`, ...init.headers } });
      const admin = new EdgeraftClient({ url: running.url, token: e2eAdminToken });
      const detail = (): Promise<GroupDetail> => admin.groups.get(group);
      const history = new HistoryRecorder();
      for (let index = 0; index < 80; index++) {
        const key = keys[index % keys.length]!;
        expect(await recordedPut({ history, process: 98, key, value: `initial-${index}`, path: path(key), call })).toBe(200);
      }
      const before = await detail();
      expect(before.replicas.map((replica) => replica.id)).toEqual([1, 2, 3]);
      const leaderBefore = before.health.leader;
      expect(before.health.replicas.find((replica) => replica.id === leaderBefore)!.commit!).toBeGreaterThan(80);
      const replaced = leaderBefore === 2 ? 3 : 2;

      const failures: string[] = [];
      let writing = true;
      const clients = Array.from({ length: 5 }, (_, process) =>
        historyClient({ process, history, failures, running: () => writing, keyOf: (n) => keys[(process + n) % keys.length]!, pathOf: path, call }),
      );
      await sleep(1_000);
      let outcome: { status: number; body: { replica?: number; replicas?: { id: number }[] } } = { status: 0, body: {} };
      for (let attempt = 1; attempt <= 5; attempt++) {
        const response = await call(`/v1/groups/${group}/replicas/${replaced}/replace`, { method: "POST" });
        outcome = { status: response.status, body: (await response.json()) as typeof outcome.body };
        if (response.status !== 503) break;
      }
      await sleep(1_500); // writes go on after the change
      writing = false;
      await Promise.all(clients);

      expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
      expect(outcome.body.replica).toBe(4);
      const membership = [1, 2, 3, 4].filter((id) => id !== replaced);
      expect(outcome.body.replicas!.map((replica) => replica.id).sort()).toEqual(membership);

      await expectLinearizableReadBack({ history, keys, path, operationsMin: 30, call });

      // The new replica got a snapshot from the leader and installed it (its log had nothing the leader still kept).
      const lines = logLines(running.output()).filter((line) => line.group === group);
      expect(lines.some((line) => line.event === "snapshotSent" && line.to === 4), "the leader sent replica 4 a snapshot").toBe(true);
      const installed = lines.find((line) => line.event === "snapshotInstalled" && line.replica === 4);
      expect(installed?.index, "replica 4 installed a snapshot").toBeGreaterThan(20);

      let after = await detail();
      const settled = (view: GroupDetail) => {
        const leaderCommit = view.health.replicas.find((replica) => replica.id === view.health.leader)?.commit;
        return view.replicaChange === undefined && view.health.leader > 0 && leaderCommit !== undefined &&
          view.health.replicas.every((replica) => replica.reachable && JSON.stringify(replica.voters) === JSON.stringify(membership) && replica.applied === leaderCommit);
      };
      for (let poll = 0; poll < 200 && !settled(after); poll++) {
        await sleep(50);
        after = await detail();
      }
      expect(after.replicas.map((replica) => replica.id).sort()).toEqual(membership);
      for (const replica of after.health.replicas) expect({ id: replica.id, voters: replica.voters, learners: replica.learners }).toEqual({ id: replica.id, voters: membership, learners: [] });
      const leaderCommit = after.health.replicas.find((replica) => replica.id === after.health.leader)!.commit;
      expect(after.health.replicas.find((replica) => replica.id === 4)!.applied).toBe(leaderCommit);
      console.log(`replace by snapshot: ${history.operations().length} operations, ${failures.length} failed requests, snapshot installed at index ${installed!.index}`);
    } finally {
      await running.stop();
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});
