/**
 * Proves POST /v1/groups/{name}/transfer-leader against a real wrangler dev: while five recorded
 * clients write, read and compare-and-set a tenant group's keys, leadership is handed to each
 * replica in turn; every answer names the replica asked for as the new leader, the group's own
 * replicas agree, no client request fails, and the checker accepts the history as linearizable.
 * It also proves the 404 for a replica the group does not have, that `{}` answers a leader, and
 * that a transfer to a replica cut off from its group fails with 409 (or times out with 503)
 * while the leader keeps serving.
 */
import { describe, expect, it } from "vitest";
import { HistoryRecorder, checkHistory, describeKeyFailure } from "../../src/checker/index.ts";
import { EdgeraftClient } from "../../src/client/index.ts";
import { baseUrl, call, callJson } from "./client.ts";
import { historyClient, recordedPut } from "./history-client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const tenant = "transfer-test";
const group = `tenant-${tenant}`;
const keys = ["a", "b", "c"];
const path = (key: string) => `/v1/tenants/${tenant}/kv/${key}`;
const json = { "content-type": "application/json" };

async function leaderSeenByGroup(): Promise<number> {
  const client = new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
  for (let attempt = 0; attempt < 50; attempt++) {
    const leader = (await client.groups.get(group)).health.leader;
    if (leader > 0) return leader;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 0;
}

describe("leadership transfer under concurrent writes", () => {
  it("moves the leader to each replica asked for and keeps the history linearizable", async () => {
    const history = new HistoryRecorder();
    for (const key of keys) expect(await recordedPut({ history, process: 98, key, value: `initial-${key}`, path: path(key) })).toBe(200);
    const failures: string[] = [];
    let running = true;
    const clients = Array.from({ length: 5 }, (_, process) =>
      historyClient({ process, history, failures, running: () => running, keyOf: (n) => keys[(process + n) % keys.length]!, pathOf: path }),
    );
    const transfers: { to: number; status: number; body: Record<string, unknown>; seen: number; ms: number }[] = [];
    try {
      for (const to of [2, 3, 1, 3]) {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const startedAt = performance.now();
        const answer = await callJson(`/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: JSON.stringify({ to }) });
        const ms = performance.now() - startedAt;
        transfers.push({ to, status: answer.status, body: answer.body, seen: await leaderSeenByGroup(), ms });
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      running = false;
      await Promise.all(clients);
    }
    for (const transfer of transfers) {
      expect(transfer.status, JSON.stringify(transfer.body)).toBe(200);
      expect(transfer.body).toMatchObject({ group, leader: transfer.to, transferred: true });
      expect(transfer.seen).toBe(transfer.to);
    }
    expect(transfers.map((transfer) => transfer.body.previous)).toEqual([1, 2, 3, 1]);
    expect(failures).toEqual([]);
    const result = checkHistory(history.operations());
    expect(result.keys.filter((k) => k.outcome === "violation").flatMap(describeKeyFailure)).toEqual([]);
    expect(result.linearizable).toBe(true);
    expect(result.operationsCount).toBeGreaterThan(50);
    const durations = transfers.map((transfer) => Math.round(transfer.ms));
    console.log(`leader transfers under 5 writing clients: ${durations.join(", ")} ms until answered; ${result.operationsCount} operations recorded`);
  });

  it("answers the current leader for a transfer to it, a leader for {}, and 404 for an unknown replica", async () => {
    const current = await leaderSeenByGroup();
    const same = await callJson(`/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: JSON.stringify({ to: current }) });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ leader: current, previous: current, transferred: false });
    const best = await callJson<{ leader: number }>(`/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: "{}" });
    expect(best.status).toBe(200);
    expect([1, 2, 3]).toContain(best.body.leader);
    expect(await leaderSeenByGroup()).toBe(best.body.leader);
    const unknown = await callJson(`/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: JSON.stringify({ to: 9 }) });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "replicaNotFound" });
    const noGroup = await callJson(`/v1/groups/no-such-group/transfer-leader`, { method: "POST", headers: json, body: "{}" });
    expect(noGroup.status).toBe(404);
    expect(noGroup.body).toMatchObject({ code: "groupNotFound" });
  });

  it("answers 409 transferFailed (or 503 transferTimedOut) when the target cannot take over, and the leader stays", async () => {
    const leader = await leaderSeenByGroup();
    const target = leader === 3 ? 2 : 3;
    const fault = (body: object) => call("/v1/faults", { method: "POST", headers: json, body: JSON.stringify(body) });
    expect((await fault({ kind: "isolate", group, replica: target })).status).toBeLessThan(300);
    try {
      const answer = await callJson<{ code: string; leader?: number }>(`/v1/groups/${group}/transfer-leader`, { method: "POST", headers: json, body: JSON.stringify({ to: target }) });
      expect([409, 503]).toContain(answer.status);
      expect(answer.body.code).toBe(answer.status === 409 ? "transferFailed" : "transferTimedOut");
      if (answer.status === 409) expect(answer.body.leader).toBe(leader);
      expect((await call(path("a"), { method: "PUT", body: "after a failed transfer" })).status).toBe(200);
    } finally {
      expect((await call("/v1/faults", { method: "DELETE" })).status).toBeLessThan(300);
    }
    expect(await leaderSeenByGroup()).toBe(leader);
  });
});
