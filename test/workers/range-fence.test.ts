/**
 * Proves, inside workerd with SQLite, that what a group owns is enforced by the replica itself from
 * state in its log: a write or read of a key outside its ranges is refused (wrongRange, with the
 * group the range went to) whatever routing table the caller used, a frozen range refuses writes
 * but still serves reads, a released range's records are gone, and all of it survives the object
 * being aborted and reloaded from SQLite. This is what closes the old window in which a router with
 * a stale routing cache could write into a group that no longer owned the key.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const post = async (stub: DurableObjectStub, path: string, body: unknown) =>
  (await (await stub.fetch(`https://replica${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })).json()) as Record<string, unknown>;

let seq = 0;
const command = (operation: unknown) => ({ epoch: 1, command: { clientId: "fence-test", seq: ++seq, timeMs: Date.now(), operation } });
const put = (key: string, value: string) => command({ type: "put", key, valueBase64: btoa(value) });
const range = (change: unknown) => command({ type: "range", change });
const resultOf = (answer: Record<string, unknown>) => (answer as { result: Record<string, unknown> }).result;

async function oneReplicaGroup(group: string): Promise<DurableObjectStub> {
  const stub = stubOf(group, 1);
  expect(await post(stub, "/internal/bootstrap", { group, replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 })).toEqual({ ok: true });
  await post(stub, "/internal/campaign", {});
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = (await (await stub.fetch("https://replica/internal/status")).json()) as { status?: { role: string } };
    if (status.status?.role === "leader") return stub;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no leader");
}

describe("a replica enforces its group's ranges", () => {
  it("refuses keys outside its ranges, freezes, releases, and keeps it all across a restart", async () => {
    const stub = await oneReplicaGroup("fence");
    expect(resultOf(await post(stub, "/internal/write", range({ action: "init", mode: "range", spans: [{ start: "a", end: "m" }] })))).toEqual({ ok: true, type: "range", epoch: 1 });

    expect(resultOf(await post(stub, "/internal/write", put("z", "outside")))).toMatchObject({ ok: false, code: "wrongRange" });
    expect(await post(stub, "/internal/get", { epoch: 1, key: "z" })).toMatchObject({ kind: "wrongRange" });
    expect(resultOf(await post(stub, "/internal/write", put("b", "inside")))).toMatchObject({ ok: true, type: "put" });
    expect(resultOf(await post(stub, "/internal/write", put("g", "stays")))).toMatchObject({ ok: true, type: "put" });

    const span = { start: "a", end: "f" };
    expect(resultOf(await post(stub, "/internal/write", range({ action: "freeze", saga: "s1", span })))).toMatchObject({ ok: true });
    expect(resultOf(await post(stub, "/internal/write", put("b", "while frozen")))).toMatchObject({ ok: false, code: "rangeFrozen" });
    expect(await post(stub, "/internal/get", { epoch: 1, key: "b" })).toMatchObject({ kind: "ok", found: true, valueBase64: btoa("inside") });
    const page = await post(stub, "/internal/export", { epoch: 1, saga: "s1", span });
    expect(page).toMatchObject({ kind: "ok", records: [{ key: "b", valueBase64: btoa("inside") }] });
    expect(await post(stub, "/internal/export", { epoch: 1, saga: "other-saga", span })).toEqual({ kind: "notFrozen" });

    expect(resultOf(await post(stub, "/internal/write", range({ action: "release", saga: "s1", span, to: "elsewhere" })))).toMatchObject({ ok: true });
    expect(await post(stub, "/internal/get", { epoch: 1, key: "b" })).toMatchObject({ kind: "wrongRange", movedTo: "elsewhere" });
    // The saga committed here, so it can no longer roll back here.
    expect(resultOf(await post(stub, "/internal/write", range({ action: "unfreeze", saga: "s1" })))).toMatchObject({ ok: false, code: "rangeRefused" });

    await post(stub, "/internal/crash", {}).catch(() => undefined); // the object is aborted and reloads from SQLite
    const again = stubOf("fence", 1);
    let answer: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100; attempt++) {
      answer = await post(again, "/internal/get", { epoch: 1, key: "b" }).catch(() => ({}));
      if (answer.kind !== undefined && answer.kind !== "notLeader") break;
      await post(again, "/internal/campaign", {}).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(answer).toMatchObject({ kind: "wrongRange", movedTo: "elsewhere" });
    expect(resultOf(await post(again, "/internal/write", put("g", "after restart")))).toMatchObject({ ok: true, type: "put" });
    expect(resultOf(await post(again, "/internal/write", put("c", "released")))).toMatchObject({ ok: false, code: "wrongRange" });
  });
});
