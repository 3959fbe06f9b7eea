/**
 * Requests of the simulator's bank processes to the groups, routed like src/router: by a fresh copy
 * of the range table, to the leader when known, resent with the same session (one client id per
 * request, seq 1) after a timeout, re-routed after `wrongRange` (to the group its "moved to" hint names, as the router does, else the fresh table's), retried later after `rangeFrozen`.
 * A request that times out `attemptsMax` times (waiting twice as long each time) ends with an
 * unknown outcome (undefined).
 */
import type { Rng } from "../../src/shared/rng.ts";
import { encodeCommand, type ApplyResult, type KvStateMachine, type Operation } from "../../src/kv/index.ts";
import { lookupKey } from "../../src/multiraft/keyspace.ts";
import { noNode, type NodeId } from "../../src/raft/types.ts";
import { tickMs } from "./options.ts";
import type { MultiGroupWorld } from "./multigroup-world.ts";

/** What a request asks: a proposal, or a read of the state machine after a ReadIndex round. */
export type Payload = { readonly kind: "write"; readonly operation: Operation } | { readonly kind: "read"; readonly read: (machine: KvStateMachine) => unknown };

interface Pending {
  readonly routingKey: string | undefined;
  group: string;
  readonly payload: Payload;
  readonly clientId: string;
  command: Uint8Array | undefined;
  attempts: number;
  deadline: number;
  resendAt: number | null;
  token: number;
  readonly done: (answer: unknown) => void;
}

/** Every request in flight of the bank processes. */
export class BankRequests {
  private readonly world: MultiGroupWorld;
  private readonly rng: Rng;
  private readonly pending = new Set<Pending>();
  /** Answers waiting for the next tick: callbacks run inside a replica's driver, so they must not send (re-enter it). */
  private readonly answered: { done: (answer: unknown) => void; answer: unknown }[] = [];
  private readonly guesses = new Map<string, NodeId>();
  private counter = 0;
  private token = 0;
  /** Timeouts before a request's outcome counts as unknown. */
  private readonly attemptsMax: number;
  private readonly timeoutTicks: number;

  constructor(world: MultiGroupWorld, rng: Rng, options: { attemptsMax: number; timeoutTicks: number }) {
    this.world = world;
    this.rng = rng;
    this.attemptsMax = options.attemptsMax;
    this.timeoutTicks = options.timeoutTicks;
  }

  /** How many requests are in flight or answered but not yet handed over. */
  get size(): number {
    return this.pending.size + this.answered.length;
  }

  /**
   * Sends `payload` to the group serving `target.key` (re-routed when it moves), or to group
   * `target.group` (never re-routed); `done` gets the applied result or the read's value, or undefined.
   */
  send(target: { key: string } | { group: string }, payload: Payload, done: (answer: unknown) => void): void {
    const routingKey = "key" in target ? target.key : undefined;
    const group = "key" in target ? lookupKey(this.world.table.value, target.key).group : target.group;
    const request: Pending = { routingKey, group, payload, clientId: `bank-${++this.counter}`, command: undefined, attempts: 0, deadline: 0, resendAt: null, token: 0, done };
    if (payload.kind === "write") request.command = encodeCommand({ clientId: request.clientId, seq: 1, timeMs: this.world.now * tickMs, operation: payload.operation });
    this.pending.add(request);
    this.submit(request, true);
  }

  /** One tick: hand over answers, then time out or resend. */
  onTick(): void {
    for (const { done, answer } of this.answered.splice(0)) done(answer);
    for (const request of [...this.pending]) {
      if (this.world.now >= request.deadline) {
        request.attempts++;
        if (request.attempts >= this.attemptsMax) this.finish(request, undefined);
        else this.submit(request, true);
      } else if (request.resendAt !== null && this.world.now >= request.resendAt) {
        request.resendAt = null;
        this.submit(request, false);
      }
    }
  }

  private submit(request: Pending, newAttempt: boolean): void {
    if (newAttempt) request.deadline = this.world.now + this.timeoutTicks * 2 ** Math.min(request.attempts, 4); // back off, so a slow group is not flooded with resends
    if (!this.world.groups.has(request.group)) return this.reroute(request);
    const token = (request.token = ++this.token);
    const replica = this.world.target(request.group, this.guesses.get(request.group) ?? noNode, this.rng);
    if (replica === undefined || !replica.alive) {
      request.resendAt = this.world.now + 1 + this.rng.int(3);
      return;
    }
    const current = () => this.pending.has(request) && request.token === token;
    if (request.payload.kind === "read") {
      const read = request.payload.read;
      this.world.readIndex(replica, `${request.clientId}:${token}`, false, (machine) => {
        if (!current()) return;
        const answer = read(machine) as { ok?: boolean; code?: string; movedTo?: string };
        if (answer?.ok === false && (answer.code === "wrongRange" || answer.code === "rangeFrozen")) this.refused(request, answer.code, answer.movedTo);
        else this.finish(request, answer);
      });
      return;
    }
    const accepted = this.world.propose(replica, request.clientId, 1, request.command!, (result: ApplyResult) => {
      if (!current()) return;
      if (!result.ok && (result.code === "wrongRange" || result.code === "rangeFrozen")) this.refused(request, result.code, result.code === "wrongRange" ? result.movedTo : undefined);
      else this.finish(request, result);
    });
    if (accepted) this.guesses.set(request.group, replica.id);
    else {
      this.guesses.set(request.group, replica.status().leader);
      request.resendAt = this.world.now + 1 + this.rng.int(3);
    }
  }

  /** Follows a refusal as the router does: to the group a "moved to" hint names, else the fresh table's; a frozen range is retried shortly. */
  private refused(request: Pending, code: "wrongRange" | "rangeFrozen", movedTo: string | undefined): void {
    if (code === "rangeFrozen" || request.routingKey === undefined) {
      request.resendAt = this.world.now + 2 + this.rng.int(4);
      return;
    }
    if (movedTo !== undefined && movedTo !== request.group && this.world.groups.has(movedTo)) {
      request.group = movedTo;
      request.resendAt = this.world.now + 1;
      return;
    }
    this.reroute(request);
  }

  private reroute(request: Pending): void {
    if (request.routingKey !== undefined) request.group = lookupKey(this.world.table.value, request.routingKey).group;
    request.resendAt = this.world.now + 1;
  }

  private finish(request: Pending, answer: unknown): void {
    this.pending.delete(request);
    this.answered.push({ done: request.done, answer });
  }
}
