/**
 * Proves that a leader crash during concurrent writes loses no acknowledged write: clients write,
 * read and compare-and-set a few keys of one group through wrangler dev while the fault routes
 * crash-restart its leader twice; the recorded history must be linearizable (checked by the
 * project's checker), and every key's final value must be one a client wrote.
 */
import { describe, expect, it } from "vitest";
import { HistoryRecorder } from "../../src/checker/index.ts";
import { EdgeraftClient } from "../../src/client/index.ts";
import { baseUrl, call } from "./client.ts";
import { expectLinearizableReadBack, historyClient, recordedPut } from "./history-client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const tenant = "crash-test";
const group = `tenant-${tenant}`;
const keys = ["x", "y", "z"];
const path = (key: string) => `/v1/tenants/${tenant}/kv/${key}`;

async function currentLeader(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const leader = (await new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken }).groups.get(group)).health.leader;
    if (leader > 0) return leader;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the group has no leader");
}

describe("a leader crash under concurrent writes", () => {
  it("loses no acknowledged write and the history is linearizable", async () => {
    const history = new HistoryRecorder();
    for (const key of keys) expect(await recordedPut({ history, process: 98, key, value: `initial-${key}`, path: path(key) })).toBe(200);
    const stopAt = Date.now() + 12_000;
    const clients = Array.from({ length: 5 }, (_, process) =>
      historyClient({ process, history, running: () => Date.now() < stopAt, keyOf: (n) => keys[(process + n) % keys.length]!, pathOf: path }),
    );
    const crashes: number[] = [];
    for (const delayMs of [2_500, 4_000]) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const leader = await currentLeader();
      const fault = await call("/v1/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "crash", group, replica: leader }) });
      expect(fault.status).toBeLessThan(300);
      crashes.push(leader);
    }
    await Promise.all(clients);
    await expectLinearizableReadBack({ history, keys, path, operationsMin: 30 });
    expect(crashes.length).toBe(2);
  });
});
