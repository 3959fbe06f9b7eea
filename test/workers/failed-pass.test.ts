/**
 * Proves that a driver pass that throws (a bug, a storage error) resets the replica object: the
 * pass's transaction rolls back, and the engine and state machine, which had moved ahead of it in
 * memory, are thrown away with the object, which reloads from SQLite. Without the reset the
 * replica would go on from state that storage does not have.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { injectedFaultMessage } from "../../src/shared/injected-fault.ts";

type Status = { kind: string; status?: { role: string; commit: number; applied: number; lastIndex: number } };

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const post = (stub: DurableObjectStub, path: string, body: unknown) =>
  stub.fetch(`https://replica${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const statusOf = async (stub: DurableObjectStub) => (await (await stub.fetch("https://replica/internal/status")).json()) as Status;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const put = (seq: number, key: string, value: string) => ({
  epoch: 1,
  command: { clientId: "failed-pass-client", seq, timeMs: Date.now(), operation: { type: "put", key, valueBase64: btoa(value) } },
});
const get = async (stub: DurableObjectStub, key: string) =>
  (await (await post(stub, "/internal/get", { epoch: 1, key, consistency: "linearizable" })).json()) as { kind: string; found?: boolean };

/** The object's runtime, reached through its (protected) host: the test sabotages its state machine's store. */
type Sabotageable = { host: { runtime: { stateMachine: { store: { set: (...args: unknown[]) => void } } } } };

describe("a driver pass that throws", () => {
  it("resets the replica object, which reloads consistent state from SQLite and serves again", async () => {
    const group = "failed-pass";
    const stub = stubOf(group, 1);
    const boot = await post(stub, "/internal/bootstrap", { group, replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 });
    expect(boot.status).toBe(200);
    await post(stub, "/internal/campaign", {});
    expect(((await (await post(stub, "/internal/write", put(1, "before", "v"))).json()) as { kind: string }).kind).toBe("applied");
    const lastBefore = (await statusOf(stub)).status!.lastIndex;

    let original: Sabotageable["host"]["runtime"] | undefined;
    await runInDurableObject(stub, (instance) => {
      const runtime = (instance as unknown as Sabotageable).host.runtime;
      original = runtime;
      runtime.stateMachine.store.set = () => {
        throw new Error(injectedFaultMessage("the disk said no"));
      };
    });
    const failed = await post(stub, "/internal/write", put(2, "lost", "v")).then(
      (response) => response.status,
      () => "rejected",
    );
    expect(failed === "rejected" || (typeof failed === "number" && failed >= 500), `answer: ${failed}`).toBe(true);

    const fresh = stubOf(group, 1); // the old stub broke with the object
    for (let round = 0; round < 100 && (await statusOf(fresh)).status?.role !== "leader"; round++) {
      await sleep(20);
      await runDurableObjectAlarm(fresh);
    }
    await runInDurableObject(fresh, (instance) => {
      expect((instance as unknown as Sabotageable).host.runtime).not.toBe(original); // a new object, built from storage
    });
    const status = (await statusOf(fresh)).status!;
    expect(status.role).toBe("leader");
    expect(status.lastIndex).toBeGreaterThanOrEqual(lastBefore);
    expect(await get(fresh, "before")).toMatchObject({ kind: "ok", found: true });
    expect(await get(fresh, "lost")).toMatchObject({ kind: "ok", found: false }); // its whole pass rolled back
    expect(((await (await post(fresh, "/internal/write", put(3, "after", "v"))).json()) as { kind: string }).kind).toBe("applied");
    expect(await get(fresh, "after")).toMatchObject({ kind: "ok", found: true });
    const settled = (await statusOf(fresh)).status!;
    expect(settled.applied).toBe(settled.commit);
  });
});
