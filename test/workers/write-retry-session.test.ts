/**
 * Proves, inside workerd over real replica and metadata objects with SQLite, that a write the router
 * sends again after a "stale epoch" answer keeps its client session, so an attempt that was applied
 * with its answer lost is not applied a second time. The transport between the router and the
 * replicas loses the leader's answer to the first attempt (it was applied), and the replica tried
 * next answers as a retired one does (a replica replaced out of the group, which the router's record
 * still lists). Before, the router re-resolved the group and sent the write with a new session: a
 * compare-and-set applied once failed its own condition and was reported as failed
 * (test/e2e/replica-replace.test.ts caught it in CI as a linearizability violation). And that a
 * single write nobody sends again under its session answers outcomeUnknown there, not "stale".
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectDirectory } from "../../src/hosts/cloudflare/directory.ts";
import { ClusterClient } from "../../src/router/cluster-client/cluster-client.ts";
import type { GroupDescriptor, ReplicaDirectory } from "../../src/router/cluster-client/directory.ts";
import { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { SessionPool } from "../../src/router/cluster-client/session-pool.ts";
import type { Keyspace } from "../../src/router/cluster.ts";
import { call, settled } from "./worker-call.ts";

const tenant = "retry";
const keyspace: Keyspace = { kind: "tenant", tenant };
const encoder = new TextEncoder();

/**
 * The real objects behind a transport that, once armed, lets the next write through to its replica
 * and then loses the answer, and answers the call after it as a retired replica does (and, with
 * `thenBusy`, every call after that as a busy leader).
 */
function losingDirectory(options: { thenBusy?: boolean } = {}): { directory: ReplicaDirectory; arm(): void; log: string[] } {
  const real = new DurableObjectDirectory(env);
  const log: string[] = [];
  let stage: "off" | "loseAnswer" | "retired" | "busy" | "done" = "off";
  const directory: ReplicaDirectory = {
    async call(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<Response> {
      if (group.name !== `tenant-${tenant}` || stage === "off" || stage === "done") return real.call(group, id, path, body);
      if (stage === "loseAnswer" && path === "/internal/write") {
        const response = await real.call(group, id, path, body);
        log.push(`${id} applied: ${JSON.stringify(await response.json())}`);
        stage = "retired";
        throw new Error("the connection closed before the answer arrived");
      }
      if (stage === "retired") {
        stage = options.thenBusy === true ? "busy" : "done";
        log.push(`${id} answered replicaRetired`);
        return Response.json({ kind: "replicaRetired" }, { status: 410 });
      }
      if (stage === "busy") return Response.json({ kind: "busy" }, { status: 503 }); // every replica, until the caller gives up
      return real.call(group, id, path, body);
    },
  };
  return { directory, arm: () => void (stage = "loseAnswer"), log };
}

describe("a write sent again after a stale epoch answer", () => {
  it("is answered from its session: a compare-and-set applied once is reported applied, and applied once", async () => {
    expect((await settled(() => call("PUT", `/v1/tenants/${tenant}/kv/x`, "first"), (answer) => answer.status === 200)).status).toBe(200);
    const transport = losingDirectory();
    const router = new ClusterClient({ directory: transport.directory, locations: ["wnam", "weur", "apac"] });
    const before = await router.get(keyspace, "x", "linearizable");
    if (!before.ok) throw new Error(`read failed: ${JSON.stringify(before.error)}`);

    transport.arm();
    const swapped = await router.put(keyspace, "x", encoder.encode("second"), { ifVersion: before.value.version });
    expect(transport.log).toHaveLength(2); // the fault happened: an applied attempt whose answer was lost, then a retired replica
    expect(transport.log[0]).toContain('"ok":true');
    expect(swapped).toMatchObject({ ok: true, value: { key: "x" } });

    const after = await router.get(keyspace, "x", "linearizable");
    if (!after.ok) throw new Error(`read failed: ${JSON.stringify(after.error)}`);
    expect(new TextDecoder().decode(after.value.value)).toBe("second");
    // Applied once: the answer names the version the first attempt wrote, and nothing wrote after it.
    expect(swapped.ok && swapped.value.version).toBe(after.value.version);
  });

  it("is reported outcomeUnknown, not unavailable, when the router gives up on it", async () => {
    expect((await settled(() => call("PUT", `/v1/tenants/${tenant}/kv/z`, "first"), (answer) => answer.status === 200)).status).toBe(200);
    const transport = losingDirectory({ thenBusy: true });
    const router = new ClusterClient({ directory: transport.directory, locations: ["wnam", "weur", "apac"], retry: { deadlineMs: 1_500, backoffFirstMs: 20, backoffMaxMs: 200 } });
    transport.arm();
    const written = await router.put(keyspace, "z", encoder.encode("second"));
    expect(transport.log).toHaveLength(2);
    expect(transport.log[0]).toContain('"ok":true');
    // "unavailable" would tell the client nothing was written, and the typed client would send it again.
    expect(written).toMatchObject({ ok: false, error: { code: "outcomeUnknown" } });
    expect((await call("GET", `/v1/tenants/${tenant}/kv/z`)).json).toEqual({ text: "second" });
  });

  it("is reported outcomeUnknown by a single write that nobody sends again (metadata writes, intent resolution)", async () => {
    expect((await settled(() => call("PUT", `/v1/tenants/${tenant}/kv/x`, "first"), (answer) => answer.status === 200)).status).toBe(200);
    const transport = losingDirectory();
    const router = new ClusterClient({ directory: transport.directory, locations: ["wnam", "weur", "apac"] });
    const record = await router.groups.get(`tenant-${tenant}`);
    if (!record.ok) throw new Error(`no group record: ${JSON.stringify(record.error)}`);
    const io = new GroupIo(router.caller, new SessionPool());
    transport.arm();
    const written = await io.write(record.value, { type: "put", key: "y", value: encoder.encode("once") });
    expect(transport.log).toHaveLength(2);
    expect(written).toMatchObject({ ok: false, error: { code: "outcomeUnknown" } });
    expect((await call("GET", `/v1/tenants/${tenant}/kv/y`)).json).toEqual({ text: "once" }); // it was applied
  });
});
