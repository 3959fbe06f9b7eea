/**
 * The internal replica protocol (multiraft/protocol.ts) served by one replica, host-neutral: a
 * request path and JSON body in, an HTTP status and JSON body out. Both hosts serve their JSON
 * replica routes through it: a Durable Object from its fetch handler, a Deno node for a local
 * replica directly and for a remote one on the node that holds it. Identity and epoch checks come
 * first: a retired replica or an old epoch is answered "stale epoch", so the router re-resolves;
 * a key outside the group's ranges gets the state machine's wrongRange or rangeFrozen.
 */
import { commandFromJson, ownsKey, type BootstrapRequest, type LeadershipReply, type Ownership, type ReplicaRefusal } from "../../multiraft/protocol.ts";
import { encodeBase64 } from "../../shared/base64.ts";
import { keyProblemOf } from "../../kv/key-order.ts";
import type { KeyRefusal } from "../../kv/result.ts";
import { spanProblemOf, type Span } from "../../kv/span.ts";
import { scanLimitMax } from "../../shared/limits.ts";
import type { ReadConsistency, ReadResponse, ReplicaRuntime } from "./replica-runtime.ts";
import type { ConfChange, ConfChangeSingle } from "../../raft/types.ts";

/** Which group and replica a replica is; stored once, at bootstrap or first contact. */
export interface ReplicaIdentity {
  group: string;
  replica: number;
  locations: Record<string, string>;
  owns: Ownership;
  epoch: number;
  /** The group was deleted: every client request is answered "stale epoch". */
  retired: boolean;
  /** Deno: started empty after its node had no rows for it, and not caught up yet (RaftConfig.recovering; replica-adoption.ts). */
  recovering?: boolean;
}

/** One replica as the protocol sees it; hosts implement it over their storage and timers. */
export interface ReplicaEndpoint {
  readonly identity: ReplicaIdentity | undefined;
  readonly runtime: ReplicaRuntime | undefined;
  /** Makes this a founding replica of a group; idempotent; false on a conflicting identity. */
  bootstrap(request: BootstrapRequest): boolean;
  /** Marks the group deleted. */
  retire(): void;
  /** Re-arms the replica's timer after the runtime may have changed (the host's alarm or ticker). */
  schedule(): void;
  /** Host-specific traffic counters reported by /internal/status. */
  traffic(): unknown;
  /** Called after each client write was answered here (load reports for automatic splits). */
  afterWrite?(): void;
  /** Called after a client read or write that names where it came from (a locationHint) was answered here (leader locality). */
  noteOrigin?(origin: string): void;
}

/** An answer to an internal request. */
export interface ReplicaAnswer {
  status: number;
  body: unknown;
}

/** Every path answerReplicaRequest serves; /internal/status is a GET (no body), the rest are POSTs. */
export const replicaRequestPaths = [
  "/internal/bootstrap", "/internal/write", "/internal/get", "/internal/scan", "/internal/export", "/internal/median",
  "/internal/status", "/internal/campaign", "/internal/transfer", "/internal/retire", "/internal/membership",
  "/internal/leadership", "/internal/ranges", "/internal/wake",
] as const;

const answer = (body: unknown, status = 200): ReplicaAnswer => ({ status, body });
/** What an origin may look like: a locationHint (wnam, weur, apac-ne, ...). */
const originPattern = /^[a-z][a-z0-9-]{0,31}$/;

/** Serves `path` with `body` (undefined for GET) at `endpoint`. */
export async function answerReplicaRequest(endpoint: ReplicaEndpoint, path: string, body: unknown): Promise<ReplicaAnswer> {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  // A retired replica (removed from its group, or its group deleted) serves nothing, ever again.
  if (endpoint.identity?.retired === true && path !== "/internal/retire") return answer({ kind: "replicaRetired" } satisfies ReplicaRefusal, 410);
  switch (path) {
    case "/internal/bootstrap": {
      const ok = endpoint.bootstrap(fields as unknown as BootstrapRequest);
      return answer({ ok }, ok ? 200 : 409);
    }
    case "/internal/write":
      return client(endpoint, fields, undefined, async (runtime) => {
        const command = commandFromJson(fields.command);
        if (command === undefined) return { kind: "badRequest" };
        const written = await runtime.write(command);
        endpoint.afterWrite?.();
        return written.kind === "applied" ? { kind: "applied", result: written.result } : written;
      });
    case "/internal/get": {
      const key = fields.key;
      if (typeof key !== "string" || keyProblemOf(key) !== undefined) return answer({ kind: "badRequest" });
      return client(endpoint, fields, key, async (runtime) =>
        readAnswer(await runtime.get(key, consistencyOf(fields.consistency)), (read) => {
          if (!read.ok) return read.code === "intentFound" ? { kind: "intent", intents: read.intents } : refusalAnswer(read);
          const record = read.record;
          return record === undefined ? { kind: "ok", found: false } : { kind: "ok", found: true, valueBase64: encodeBase64(record.value), version: record.version };
        }),
      );
    }
    case "/internal/scan":
      return client(endpoint, fields, undefined, async (runtime) => {
        const limit = typeof fields.limit === "number" && fields.limit >= 1 && fields.limit <= scanLimitMax ? fields.limit : 100;
        const range = { start: text(fields.start), end: text(fields.end), prefix: text(fields.prefix), cursor: text(fields.cursor), limit };
        return readAnswer(await runtime.scan(range, consistencyOf(fields.consistency)), (read) => {
          if (!read.ok) return read.code === "intentFound" ? { kind: "intent", intents: read.intents } : refusalAnswer(read);
          return {
            kind: "ok",
            entries: read.page.entries.map((e) => ({ key: e.key, valueBase64: encodeBase64(e.value), version: e.version })),
            ...(read.page.cursor === undefined ? {} : { cursor: read.page.cursor }),
          };
        });
      });
    case "/internal/export":
      return client(endpoint, fields, undefined, async (runtime) => {
        if (typeof fields.saga !== "string" || spanProblemOf(fields.span) !== undefined) return { kind: "badRequest" };
        return readAnswer(await runtime.exportRange(fields.saga, fields.span as Span, text(fields.cursor)), (page) => {
          if (page === undefined) return { kind: "notFrozen" };
          const records = page.records.map((e) => ({ key: e.key, valueBase64: encodeBase64(e.value), version: e.version }));
          return { kind: "ok", records, sessions: page.sessions, versionFloor: page.versionFloor, ...(page.txn === undefined ? {} : { txn: page.txn }), ...(page.cursor === undefined ? {} : { cursor: page.cursor }) };
        });
      });
    case "/internal/median":
      return client(endpoint, fields, undefined, async (runtime) => readAnswer(await runtime.medianKey(), (key) => (key === undefined ? { kind: "ok" } : { kind: "ok", key })));
    case "/internal/ranges":
      return client(endpoint, fields, undefined, async (runtime) => readAnswer(await runtime.servedSpans(), (spans) => ({ kind: "ok", spans: spans ?? null })));
    case "/internal/status": {
      const runtime = endpoint.runtime;
      if (runtime === undefined) return answer({ kind: "uninitialized" });
      // A quiet replica, also one restarted from its quiet note, knows its leader: a health check or
      // a metrics scrape only reads it, so it neither wakes an idle group nor starts an election in
      // it. Only a replica that knows no leader (it stopped while its group was busy) campaigns, as
      // it would after its own election timeout anyway; a candidate goes on with its election.
      if (runtime.node.brief().leader === 0) {
        runtime.campaignIfLeaderless();
        endpoint.schedule();
      }
      return answer({ kind: "ok", identity: endpoint.identity, status: runtime.status(), traffic: endpoint.traffic() });
    }
    case "/internal/leadership": {
      // Who leads, as this replica sees it, without waking it or starting an election (a transfer is watched through this).
      const runtime = endpoint.runtime;
      if (runtime === undefined) return answer({ kind: "uninitialized" });
      const { role, term, leader, leadTransferee, lastIndex, conf } = runtime.node.status(); // the engine's, not the runtime's (no metrics): polled while a group is created
      const members = [...new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners, ...conf.learnersNext])];
      const { owns, epoch } = endpoint.identity ?? { owns: { default: true } as const, epoch: 0 };
      return answer({ kind: "ok", role, term, leader, transferee: leadTransferee, lastIndex, members, owns, epoch } satisfies LeadershipReply);
    }
    case "/internal/wake": {
      // Replica `lost` of this group came back empty and was adopted, recovering (a Deno node that
      // lost its data directory: hosts/deno/replica-adoption.ts). A leader here probes it again,
      // and wakes if quiet: its progress still says caught up, so it would go quiet (or stay so)
      // with the replica empty. A quiet follower that still trusts the lost replica as its leader
      // wakes: its election timer runs, and the group elects a leader that catches the replica up.
      const runtime = endpoint.runtime;
      if (runtime === undefined) return answer({ kind: "uninitialized" }, 503);
      const lost = fields.lost;
      if (typeof lost !== "number" || !Number.isInteger(lost) || lost <= 0) return answer({ kind: "badRequest" }, 400);
      const brief = runtime.node.brief();
      if (brief.role === "leader" && lost !== runtime.id) runtime.unreachable(lost);
      else if (brief.role === "leader" || brief.leader !== lost) return answer({ ok: true, woken: false });
      runtime.node.wake();
      runtime.receive([]); // a driver pass: what waking sends leaves now, and the timers start from now
      endpoint.schedule();
      return answer({ ok: true, woken: true });
    }
    case "/internal/campaign":
      return admin(endpoint, (runtime) => runtime.campaign());
    case "/internal/transfer":
      return admin(endpoint, (runtime) => typeof fields.to === "number" && runtime.transferLeader(fields.to));
    case "/internal/retire":
      endpoint.retire();
      return answer({ ok: true });
    case "/internal/membership": {
      const runtime = endpoint.runtime;
      if (runtime === undefined) return answer({ kind: "uninitialized" } satisfies ReplicaRefusal, 503);
      const change = changeOf(fields.changes);
      if (change === null) return answer({ kind: "badRequest" }, 400);
      const view = runtime.membership(change);
      endpoint.schedule();
      return answer(view);
    }
    default:
      return answer({ kind: "notFound" }, 404);
  }
}

/** Runs a client request: identity and epoch checks first, then the handler; re-arms the timer around it. */
async function client(
  endpoint: ReplicaEndpoint,
  fields: Record<string, unknown>,
  key: string | undefined,
  handle: (runtime: ReplicaRuntime) => Promise<unknown>,
): Promise<ReplicaAnswer> {
  const { identity, runtime } = endpoint;
  if (identity === undefined || runtime === undefined) return answer({ kind: "uninitialized" } satisfies ReplicaRefusal, 503);
  const epoch = typeof fields.epoch === "number" ? fields.epoch : 0;
  // Groups given ranges are fenced by their state machine (wrongRange); the bootstrap ownership
  // only guards a group from before ranges were replicated state.
  const unfenced = runtime.ownership === undefined && key !== undefined && !ownsKey(identity.owns, key);
  if (identity.retired || epoch < identity.epoch || unfenced) {
    return answer({ kind: "staleEpoch", epoch: identity.epoch } satisfies ReplicaRefusal, 409);
  }
  const pending = handle(runtime);
  // Armed before waiting: a quiet replica has no timer, and if no peer answers nothing else would
  // run the engine's timers or the request's own deadline (see replica-object.ts on Cloudflare).
  endpoint.schedule();
  try {
    const answered = await pending;
    if (typeof fields.origin === "string" && originPattern.test(fields.origin)) endpoint.noteOrigin?.(fields.origin);
    return answer(answered);
  } finally {
    endpoint.schedule();
  }
}

function admin(endpoint: ReplicaEndpoint, action: (runtime: ReplicaRuntime) => unknown): ReplicaAnswer {
  if (endpoint.runtime === undefined) return answer({ kind: "uninitialized" }, 503);
  action(endpoint.runtime);
  endpoint.schedule();
  return answer({ ok: true });
}

/** The membership change asked for: undefined when none, null when malformed. */
function changeOf(raw: unknown): ConfChange | undefined | null {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const kinds = ["addVoter", "removeVoter", "addLearner"];
  const valid = raw.every((single: unknown) => {
    const item = single as Partial<ConfChangeSingle> | null;
    return typeof item === "object" && item !== null && kinds.includes(String(item.type)) && Number.isSafeInteger(item.node) && Number(item.node) > 0;
  });
  return valid ? { changes: raw as ConfChangeSingle[] } : null;
}

function readAnswer<T>(read: ReadResponse<T>, ok: (value: T) => unknown): unknown {
  return read.kind === "ok" ? ok(read.value) : read;
}

function refusalAnswer(refusal: KeyRefusal): unknown {
  return refusal.code === "wrongRange"
    ? { kind: "wrongRange", epoch: refusal.epoch, ...(refusal.movedTo === undefined ? {} : { movedTo: refusal.movedTo }) }
    : { kind: "rangeFrozen", epoch: refusal.epoch };
}

function consistencyOf(value: unknown): ReadConsistency {
  return value === "stale" || value === "lease" ? value : "linearizable";
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
