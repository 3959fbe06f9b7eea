/**
 * Key-level operations on one group, over the internal replica protocol: writes with a client
 * session (retries reuse it), reads and scans at a requested consistency. Results come back as
 * plain values or a ClusterError; "stale epoch" is surfaced so the caller can re-route.
 */
import { commandToJson, type GetReply, type ScanReply, type WriteReply } from "../../multiraft/protocol.ts";
import { decodeBase64 } from "../../shared/base64.ts";
import type { Operation } from "../../kv/command.ts";
import type { ApplyResult, IntentFound } from "../../kv/result.ts";
import type { KvEntry } from "../../kv/store.ts";
import type { ClusterError, ClusterResult, Consistency } from "../cluster.ts";
import type { GroupDescriptor } from "./directory.ts";
import type { ReplicaCaller } from "./replica-caller.ts";
import type { SessionPool, SessionSlot } from "./session-pool.ts";

/**
 * A group operation's result. `stale`: the group does not serve what was asked (re-route; `movedTo`
 * names the group the range went to, when the group knows). `frozen`: the range is moving; retry
 * shortly. Neither applied this attempt, but with `mayHaveApplied` an earlier attempt of the same
 * write (same session) may have been applied with its answer lost.
 */
export type GroupResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: ClusterError }
  | { ok: false; stale: true; movedTo?: string; mayHaveApplied?: true }
  | { ok: false; frozen: true }
  /** Other transactions' intents hold the keys (not for transaction commands, which see intentFound themselves). */
  | { ok: false; intents: IntentFound["intents"] };

/** Reads and writes on groups. */
export class GroupIo {
  private readonly caller: ReplicaCaller;
  private readonly sessions: SessionPool;

  constructor(caller: ReplicaCaller, sessions: SessionPool) {
    this.caller = caller;
    this.sessions = sessions;
  }

  /**
   * Runs `work` holding one session slot, for a write that may be sent more than once: to the same
   * group after a "stale epoch" answer, or to the group its range went to. Every attempt passes the
   * slot to write(), so an attempt after one that was applied (its answer lost) is answered from the
   * session instead of being applied again. A fresh seq there would apply it twice: a compare-and-set
   * applied once would be retried, fail its own condition, and be reported failed.
   */
  async withSession<T>(work: (session: SessionSlot) => Promise<T>): Promise<T> {
    const slot = this.sessions.acquire();
    try {
      return await work(slot);
    } finally {
      this.sessions.release(slot);
    }
  }

  /**
   * Runs `route`, a routing loop that sends `operation` to a group once per attempt through the
   * `write` it is given, with every attempt under one session (withSession). Once an attempt may
   * have been applied (a `stale` result marked so), a loop that gives up as "unavailable" reports
   * outcomeUnknown instead: "unavailable" tells the client nothing was written.
   */
  routedWrite<T>(operation: Operation, origin: string | undefined, route: (write: (group: GroupDescriptor) => Promise<GroupResult<ApplyResult>>) => Promise<ClusterResult<T>>): Promise<ClusterResult<T>> {
    return this.withSession(async (session) => {
      let mayHaveApplied = false;
      const result = await route(async (group) => {
        const written = await this.write(group, operation, origin, session);
        mayHaveApplied ||= !written.ok && "stale" in written && written.mayHaveApplied === true;
        return written;
      });
      if (result.ok || !mayHaveApplied || result.error.code !== "unavailable") return result;
      return { ok: false, error: { code: "outcomeUnknown", detail: `an attempt may have been applied, then: ${result.error.detail}` } };
    });
  }

  /**
   * Proposes `operation` and returns the applied result. With `session` (held by withSession) a
   * "stale epoch" answer comes back as `stale` for the caller to send the write again with the same
   * session, marked `mayHaveApplied` after an attempt whose answer was lost: if the caller ends
   * without a final answer, the write's outcome is unknown, not "unavailable". Without, the write
   * has a session of its own, and "stale epoch" after such an attempt comes back as outcomeUnknown,
   * since nobody will repeat it under that session.
   */
  async write(group: GroupDescriptor, operation: Operation, origin?: string, session?: SessionSlot): Promise<GroupResult<ApplyResult>> {
    if (session === undefined) return this.withSession((slot) => this.writeWith(slot, false, group, operation, origin));
    return this.writeWith(session, true, group, operation, origin);
  }

  private async writeWith(slot: SessionSlot, held: boolean, group: GroupDescriptor, operation: Operation, origin: string | undefined): Promise<GroupResult<ApplyResult>> {
    const command = { clientId: slot.clientId, seq: slot.seq, timeMs: Date.now(), operation };
    const outcome = await this.caller.call<WriteReply>(group, "/internal/write", { epoch: group.epoch, command: commandToJson(command), ...originField(origin) }, true);
    if (outcome.kind === "staleEpoch") {
      if (!outcome.mayHaveApplied) return { ok: false, stale: true };
      if (!held) return { ok: false, error: { code: "outcomeUnknown", detail: "a replica answered stale epoch after an attempt whose answer was lost" } };
      return { ok: false, stale: true, mayHaveApplied: true };
    }
    if (outcome.kind === "unknown") return { ok: false, error: { code: "outcomeUnknown", detail: outcome.detail } };
    if (outcome.kind === "unavailable") return { ok: false, error: { code: "unavailable", detail: outcome.detail } };
    const answer = outcome.answer;
    if (answer.kind !== "applied") return { ok: false, error: { code: "badRequest", detail: `replica refused the write (${answer.kind})` } };
    const result = answer.result;
    if (!result.ok && (result.code === "wrongRange" || result.code === "rangeFrozen")) return refusalOf(result);
    if (!result.ok && result.code === "intentFound" && operation.type !== "txn") return { ok: false, intents: result.intents };
    return { ok: true, value: result };
  }

  /** Reads `key`; found is false when absent. */
  async get(group: GroupDescriptor, key: string, consistency: Consistency, origin?: string): Promise<GroupResult<{ found: boolean; value?: Uint8Array; version?: number }>> {
    const outcome = await this.caller.call<GetReply>(group, "/internal/get", { epoch: group.epoch, key, consistency, ...originField(origin) }, false, consistency === "stale" ? { localAnswer: foundLocally } : {});
    if (outcome.kind === "staleEpoch") return { ok: false, stale: true };
    if (outcome.kind !== "answer") return { ok: false, error: { code: "unavailable", detail: outcome.detail } };
    const answer = outcome.answer;
    if (answer.kind === "wrongRange" || answer.kind === "rangeFrozen") return refusalOf({ code: answer.kind, movedTo: answer.movedTo });
    if (answer.kind === "intent") return { ok: false, intents: answer.intents };
    if (answer.kind !== "ok") return { ok: false, error: { code: "badRequest", detail: `replica refused the read (${answer.kind})` } };
    if (!answer.found) return { ok: true, value: { found: false } };
    return { ok: true, value: { found: true, value: decodeBase64(answer.valueBase64) ?? new Uint8Array(), version: answer.version } };
  }

  /** One page of a scan of `group`; `intents` when other transactions' write intents lie on keys the page covers. */
  async scan(
    group: GroupDescriptor,
    range: { start?: string; end?: string; prefix?: string; limit: number; cursor?: string },
    consistency: Consistency,
  ): Promise<GroupResult<{ entries: KvEntry[]; cursor?: string }>> {
    const outcome = await this.caller.call<ScanReply>(group, "/internal/scan", { epoch: group.epoch, ...range, consistency }, false);
    if (outcome.kind === "staleEpoch") return { ok: false, stale: true };
    if (outcome.kind !== "answer") return { ok: false, error: { code: "unavailable", detail: outcome.detail } };
    const answer = outcome.answer;
    if (answer.kind === "wrongRange" || answer.kind === "rangeFrozen") return refusalOf({ code: answer.kind, movedTo: answer.movedTo });
    if (answer.kind === "intent") return { ok: false, intents: answer.intents };
    if (answer.kind !== "ok") return { ok: false, error: { code: "badRequest", detail: `replica refused the scan (${answer.kind})` } };
    const entries = answer.entries.map((e) => ({ key: e.key, value: decodeBase64(e.valueBase64) ?? new Uint8Array(), version: e.version }));
    return { ok: true, value: answer.cursor === undefined ? { entries } : { entries, cursor: answer.cursor } };
  }
}

/**
 * Whether a stale GET answered by the router's local replica (a Deno node's own) stands: only when
 * it found the key. A replica that has not applied the group's ranges or data yet (just added, or
 * behind a split) answers "absent" for keys its group holds, so absence is asked of the leader.
 * (Scans always go to the leader: a lagging replica of a hashed tenant's group could drop or
 * repeat the keys of a slot on the move.)
 */
function foundLocally(answer: Record<string, unknown>): boolean {
  return answer.kind === "ok" && answer.found === true;
}

/** The `origin` member of an internal request body: where the client request came from, for the leader's locality counts. */
function originField(origin: string | undefined): { origin?: string } {
  return origin === undefined ? {} : { origin };
}

/** The GroupResult of a replica's refusal to serve a key it does not own, or owns frozen. */
function refusalOf(refusal: { code: "wrongRange" | "rangeFrozen"; movedTo?: string | undefined }): { ok: false; stale: true; movedTo?: string } | { ok: false; frozen: true } {
  if (refusal.code === "rangeFrozen") return { ok: false, frozen: true };
  return refusal.movedTo === undefined ? { ok: false, stale: true } : { ok: false, stale: true, movedTo: refusal.movedTo };
}

/** The ClusterError for an applied result that is a refusal (condition failed, bad command). */
export function applyError(result: ApplyResult): ClusterError | undefined {
  if (result.ok) return undefined;
  if (result.code === "conditionFailed") return { code: "conditionFailed", currentVersion: result.failures[0]?.currentVersion ?? 0 };
  if (result.code === "badCommand") return { code: "badRequest", detail: result.reason };
  if (result.code === "rangeRefused") return { code: "badRequest", detail: result.reason };
  if (result.code === "wrongRange" || result.code === "rangeFrozen") return { code: "unavailable", detail: "the key's range is moving; try again" };
  return { code: "outcomeUnknown", detail: "the write's session expired before its retry arrived" };
}
