/**
 * The Durable Object classes: ReplicaObject (a replica of a data group) and MetaObject (a replica
 * of the metadata group). Thin: internal routes (itty-router) hand over to ReplicaHost, the
 * host-neutral replica protocol (hosts/common/replica-requests.ts, shared with the Deno host) and
 * the ReplicaRuntime. Only the Worker talks to these routes; they are never exposed publicly.
 */
import { DurableObject } from "cloudflare:workers";
import { Router, type IRequest } from "itty-router";
import { decodeBatch, encodeBatch } from "../../multiraft/wire.ts";
import { noFaults, type ReplicaFaults } from "../../multiraft/protocol.ts";
import { injectedFaultMessage } from "../../shared/injected-fault.ts";
import { answerReplicaRequest, replicaRequestPaths } from "../common/replica-requests.ts";
import { ReplicaHost } from "./replica-host.ts";
import { idleAfterMsOf, locationsOf, thresholdsOf, type Env } from "./env.ts";
import type { GroupLoad } from "../../multiraft/balance.ts";
import { Balancer } from "../../router/cluster-client/balancer.ts";
import { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { logEvent, setLogLevel } from "../../router/log.ts";
import { DurableObjectDirectory } from "./directory.ts";

const json = (body: unknown, status = 200): Response => Response.json(body, { status });

/** A replica of a data group (one object per `<group>/<replica>`). */
export class ReplicaObject extends DurableObject<Env> {
  protected readonly host: ReplicaHost;
  protected readonly router = Router();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    setLogLevel(env.LOG_LEVEL);
    const tickMs = Number(env.RAFT_TICK_MS ?? "");
    const timing = Number.isFinite(tickMs) && tickMs > 0 ? { tickMs } : {};
    const loadReports = this.peers(env) === env.REPLICA ? { thresholds: thresholdsOf(env), send: (load: GroupLoad) => void reportLoad(env, load), idleAfterMs: idleAfterMsOf(env) } : undefined;
    this.host = new ReplicaHost(ctx.storage, this.peers(env), timing, (reason) => ctx.abort(reason), loadReports);
    void ctx.blockConcurrencyWhile(async () => this.host.open());
    this.routes();
  }

  /** The namespace holding this object's peers. */
  protected peers(env: Env): DurableObjectNamespace {
    return env.REPLICA;
  }

  override async fetch(request: Request): Promise<Response> {
    return (await this.router.fetch(request)) ?? json({ kind: "notFound" }, 404);
  }

  override async alarm(): Promise<void> {
    this.host.alarm();
  }

  protected routes(): void {
    const r = this.router;
    r.post("/internal/raft", (request) => this.raft(request));
    for (const path of replicaRequestPaths) {
      r.all(path, async (request) => {
        const body: unknown = request.method === "GET" ? undefined : await request.json();
        const answer = await answerReplicaRequest(this.host, path, body);
        return json(answer.body, answer.status);
      });
    }
    r.post("/internal/faults", async (request) => {
      const body = (await request.json()) as Partial<ReplicaFaults>;
      this.host.setFaults({ ...(this.host.transport?.faults ?? noFaults), ...body }); // faults add up; heal sends all zeros
      return json({ ok: true });
    });
    r.post("/internal/crash", () => {
      this.host.runtime?.abandon("crash requested");
      this.ctx.abort(injectedFaultMessage("crash requested through the fault routes"));
      return json({ ok: true });
    });
  }

  private async raft(request: IRequest): Promise<Response> {
    const decoded = decodeBatch(new Uint8Array(await request.arrayBuffer()));
    if (!decoded.ok) return json({ kind: "badRequest", error: decoded.error }, 400);
    const { group, from, to, messages } = decoded.batch;
    if (this.host.identity === undefined) this.host.adopt(group, to);
    if (this.host.identity?.retired === true) return json({ kind: "replicaRetired" }, 410);
    if (this.host.identity?.group !== group || this.host.identity.replica !== to) return json({ kind: "wrongReplica" }, 409);
    const replies = this.host.receive(messages, from);
    return new Response(encodeBatch({ group, from: to, to: from, messages: replies }), { headers: { "content-type": "application/octet-stream" } });
  }
}

/** A replica of the metadata group (`meta/1` to `meta/3`); same engine, its own namespace. Its leader runs the balancer. */
export class MetaObject extends ReplicaObject {
  private balancer: Balancer | undefined;

  protected override peers(env: Env): DurableObjectNamespace {
    return env.META;
  }

  protected override routes(): void {
    super.routes();
    // A data group's load report: the leader decides and runs automatic splits and merges, in the background.
    this.router.post("/internal/report", async (request) => {
      const runtime = this.host.runtime;
      const brief = runtime?.node.brief();
      if (brief?.role !== "leader") return json({ kind: "notLeader", leader: brief?.leader ?? 0 });
      const load = (await request.json()) as GroupLoad;
      if (typeof load?.group !== "string" || typeof load.keys !== "number") return json({ kind: "badRequest" }, 400);
      this.balancer ??= new Balancer(new ClusterClient({ directory: new DurableObjectDirectory(this.env), locations: locationsOf(this.env) }), thresholdsOf(this.env));
      this.ctx.waitUntil(
        this.balancer.consider(load).then(
          (outcome) => outcome.kind !== "none" && outcome.kind !== "busy" && logEvent("info", "balance", { ...outcome, group: load.group, load }),
          (error: unknown) => logEvent("warn", "balanceFailed", { group: load.group, error: String(error), load }),
        ),
      );
      return json({ kind: "ok" });
    });
  }
}

/** Sends a data group's load report to the metadata group's leader (best effort: a lost report is followed by the next). */
async function reportLoad(env: Env, load: GroupLoad): Promise<void> {
  let target = 1;
  for (let hop = 0; hop < 3; hop++) {
    try {
      const stub = env.META.get(env.META.idFromName(`meta/${target}`));
      const response = await stub.fetch("https://meta/internal/report", { method: "POST", body: JSON.stringify(load), headers: { "content-type": "application/json" } });
      const answer = (await response.json()) as { kind: string; leader?: number };
      if (answer.kind !== "notLeader") return;
      target = answer.leader !== undefined && answer.leader > 0 ? answer.leader : (target % 3) + 1;
    } catch {
      target = (target % 3) + 1;
    }
  }
}
