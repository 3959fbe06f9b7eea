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
import { answerReplicaRequest, replicaRequestPaths } from "../common/replica-requests.ts";
import { ReplicaHost } from "./replica-host.ts";
import type { Env } from "./env.ts";

const json = (body: unknown, status = 200): Response => Response.json(body, { status });

/** A replica of a data group (one object per `<group>/<replica>`). */
export class ReplicaObject extends DurableObject<Env> {
  protected readonly host: ReplicaHost;
  private readonly router = Router();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tickMs = Number(env.RAFT_TICK_MS ?? "");
    const timing = Number.isFinite(tickMs) && tickMs > 0 ? { tickMs } : {};
    this.host = new ReplicaHost(ctx.storage, this.peers(env), timing, (reason) => ctx.abort(reason));
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

  private routes(): void {
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
      this.ctx.abort("crash requested through the fault routes");
      return json({ ok: true });
    });
  }

  private async raft(request: IRequest): Promise<Response> {
    const decoded = decodeBatch(new Uint8Array(await request.arrayBuffer()));
    if (!decoded.ok) return json({ kind: "badRequest", error: decoded.error }, 400);
    const { group, from, to, messages } = decoded.batch;
    if (this.host.identity === undefined) this.host.adopt(group, to);
    if (this.host.identity?.group !== group || this.host.identity.replica !== to) return json({ kind: "wrongReplica" }, 409);
    const replies = this.host.receive(messages, from);
    return new Response(encodeBatch({ group, from: to, to: from, messages: replies }), { headers: { "content-type": "application/octet-stream" } });
  }
}

/** A replica of the metadata group (`meta/1` to `meta/3`); same engine, its own namespace. */
export class MetaObject extends ReplicaObject {
  protected override peers(env: Env): DurableObjectNamespace {
    return env.META;
  }
}
