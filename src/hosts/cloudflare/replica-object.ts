/**
 * The Durable Object classes: ReplicaObject (a replica of a data group) and MetaObject (a replica
 * of the metadata group). Thin: internal routes (itty-router) hand over to ReplicaHost and the
 * ReplicaRuntime. Only the Worker talks to these routes; they are never exposed publicly.
 */
import { DurableObject } from "cloudflare:workers";
import { Router, type IRequest } from "itty-router";
import { decodeBatch, encodeBatch } from "../../multiraft/wire.ts";
import { commandFromJson, noFaults, ownsKey, type BootstrapRequest, type ReplicaFaults, type ReplicaRefusal } from "../../multiraft/protocol.ts";
import { encodeBase64 } from "../../shared/base64.ts";
import { keyProblemOf } from "../../kv/key-order.ts";
import type { KeyRefusal } from "../../kv/result.ts";
import { spanProblemOf, type Span } from "../../kv/span.ts";
import { scanLimitMax } from "../../shared/limits.ts";
import { injectedFaultMessage } from "../../shared/injected-fault.ts";
import type { ReadResponse } from "../common/replica-runtime.ts";
import { ReplicaHost } from "./replica-host.ts";
import { locationsOf, thresholdsOf, type Env } from "./env.ts";
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
    const loadReports = this.peers(env) === env.REPLICA ? { thresholds: thresholdsOf(env), send: (load: GroupLoad) => void reportLoad(env, load) } : undefined;
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
    r.post("/internal/bootstrap", async (request) => {
      const body = (await request.json()) as BootstrapRequest;
      const ok = this.host.bootstrap(body);
      return json({ ok }, ok ? 200 : 409);
    });
    r.post("/internal/write", (request) => this.client(request, async (runtime, body) => {
      const command = commandFromJson(body.command);
      if (command === undefined) return { kind: "badRequest" };
      const answer = await runtime.write(command);
      this.host.reporter?.afterWrite();
      return answer.kind === "applied" ? { kind: "applied", result: answer.result } : answer;
    }));
    r.post("/internal/get", (request) => this.client(request, async (runtime, body) => {
      if (typeof body.key !== "string" || keyProblemOf(body.key) !== undefined) return { kind: "badRequest" };
      return readAnswer(await runtime.get(body.key, consistencyOf(body.consistency)), (read) => {
        if (!read.ok) return refusalAnswer(read);
        const record = read.record;
        return record === undefined ? { kind: "ok", found: false } : { kind: "ok", found: true, valueBase64: encodeBase64(record.value), version: record.version };
      });
    }, (body) => body.key as string));
    r.post("/internal/scan", (request) => this.client(request, async (runtime, body) => {
      const limit = typeof body.limit === "number" && body.limit >= 1 && body.limit <= scanLimitMax ? body.limit : 100;
      const range = { start: optionalText(body.start), end: optionalText(body.end), prefix: optionalText(body.prefix), cursor: optionalText(body.cursor), limit };
      return readAnswer(await runtime.scan(range, consistencyOf(body.consistency)), (read) => {
        if (!read.ok) return refusalAnswer(read);
        return {
          kind: "ok",
          entries: read.page.entries.map((e) => ({ key: e.key, valueBase64: encodeBase64(e.value), version: e.version })),
          ...(read.page.cursor === undefined ? {} : { cursor: read.page.cursor }),
        };
      });
    }));
    r.post("/internal/export", (request) => this.client(request, async (runtime, body) => {
      if (typeof body.saga !== "string" || spanProblemOf(body.span) !== undefined) return { kind: "badRequest" };
      return readAnswer(await runtime.exportRange(body.saga, body.span as Span, optionalText(body.cursor)), (page) => {
        if (page === undefined) return { kind: "notFrozen" };
        const records = page.records.map((e) => ({ key: e.key, valueBase64: encodeBase64(e.value), version: e.version }));
        return { kind: "ok", records, sessions: page.sessions, versionFloor: page.versionFloor, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) };
      });
    }));
    r.post("/internal/median", (request) => this.client(request, async (runtime) => readAnswer(await runtime.medianKey(), (key) => (key === undefined ? { kind: "ok" } : { kind: "ok", key }))));
    r.get("/internal/status", () => {
      const runtime = this.host.runtime;
      if (runtime === undefined) return json({ kind: "uninitialized" });
      if (runtime.node.brief().leader === 0) runtime.campaign(); // a status check wakes a hibernated group
      this.host.schedule();
      const traffic = { received: this.host.received, sent: this.host.transport?.counters };
      return json({ kind: "ok", identity: this.host.identity, status: runtime.status(), traffic });
    });
    r.post("/internal/campaign", () => this.admin((runtime) => runtime.campaign()));
    r.post("/internal/transfer", async (request) => {
      const body = (await request.json()) as { to?: unknown };
      return this.admin((runtime) => typeof body.to === "number" && runtime.transferLeader(body.to));
    });
    r.post("/internal/retire", () => {
      this.host.retire();
      return json({ ok: true });
    });
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
    if (this.host.identity?.group !== group || this.host.identity.replica !== to) return json({ kind: "wrongReplica" }, 409);
    const replies = this.host.receive(messages, from);
    return new Response(encodeBatch({ group, from: to, to: from, messages: replies }), { headers: { "content-type": "application/octet-stream" } });
  }

  /** Runs a client request: identity and epoch checks first, then the handler; schedules the alarm after. */
  private async client(
    request: IRequest,
    handle: (runtime: NonNullable<ReplicaHost["runtime"]>, body: Record<string, unknown>) => Promise<unknown>,
    keyOf?: (body: Record<string, unknown>) => string,
  ): Promise<Response> {
    const body = (await request.json()) as Record<string, unknown>;
    const { identity, runtime } = this.host;
    if (identity === undefined || runtime === undefined) return json({ kind: "uninitialized" } satisfies ReplicaRefusal, 503);
    const epoch = typeof body.epoch === "number" ? body.epoch : 0;
    const key = keyOf?.(body);
    // Groups given ranges are fenced by their state machine (wrongRange); the bootstrap ownership
    // only guards a group from before ranges were replicated state.
    const unfenced = runtime.ownership === undefined && key !== undefined && !ownsKey(identity.owns, key);
    if (identity.retired || epoch < identity.epoch || unfenced) {
      return json({ kind: "staleEpoch", epoch: identity.epoch } satisfies ReplicaRefusal, 409);
    }
    const pending = handle(runtime, body);
    // The handler has proposed or asked for a read index by now and may wait for peers. Arm the
    // alarm before waiting: a quiesced replica has none, and when no peer answers (isolated, or
    // every peer unreachable) nothing else would arm it, so neither the engine's timers (CheckQuorum
    // step-down, elections) nor the request's own deadline would ever run and the call would hang.
    this.host.schedule();
    try {
      return json(await pending);
    } finally {
      this.host.schedule();
    }
  }

  private admin(action: (runtime: NonNullable<ReplicaHost["runtime"]>) => unknown): Response {
    if (this.host.runtime === undefined) return json({ kind: "uninitialized" }, 503);
    action(this.host.runtime);
    this.host.schedule();
    return json({ ok: true });
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

function readAnswer<T>(answer: ReadResponse<T>, ok: (value: T) => unknown): unknown {
  return answer.kind === "ok" ? ok(answer.value) : answer;
}

function refusalAnswer(refusal: KeyRefusal): unknown {
  return refusal.code === "wrongRange"
    ? { kind: "wrongRange", epoch: refusal.epoch, ...(refusal.movedTo === undefined ? {} : { movedTo: refusal.movedTo }) }
    : { kind: "rangeFrozen", epoch: refusal.epoch };
}

function consistencyOf(value: unknown): "linearizable" | "lease" | "stale" {
  return value === "stale" || value === "lease" ? value : "linearizable";
}

function optionalText(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
