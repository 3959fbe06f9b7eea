/**
 * Calls a group's leader: follows "not leader" redirects, remembers leader hints, retries
 * retryable answers (unknown outcome, busy, no leader yet, unreachable replica) with exponential
 * backoff and jitter until a deadline. Writes are retried with the same client session, so a
 * retry that reaches a replica after the first attempt was applied is answered from the session
 * table instead of being applied twice.
 */
import type { ReplicaRefusal } from "../../multiraft/protocol.ts";
import type { GroupDescriptor, ReplicaDirectory } from "./directory.ts";

/** Retry settings. */
export interface RetryPolicy {
  deadlineMs: number;
  backoffFirstMs: number;
  backoffMaxMs: number;
}

/** Default: retry for up to 10 s, backing off from 20 ms to 500 ms. */
export const defaultRetryPolicy: RetryPolicy = { deadlineMs: 10_000, backoffFirstMs: 20, backoffMaxMs: 500 };

/** What a call ended with: the replica's answer, or why there is none. */
export type CallOutcome<T> =
  | { kind: "answer"; answer: T }
  /** `mayHaveApplied`: an earlier attempt of this write may have been applied (its answer was lost) before a replica answered "stale epoch". */
  | { kind: "staleEpoch"; epoch: number; mayHaveApplied: boolean }
  | { kind: "unavailable"; detail: string }
  | { kind: "unknown"; detail: string };

const retryableKinds = new Set(["notLeader", "busy", "unknown", "uninitialized"]);

/** How a caller bounds one call to a replica by its deadline (epoch milliseconds). */
export interface CallDeadlines {
  /** Runs `work`, or throws once `deadline` passes without its result. */
  race<T>(deadline: number, work: () => Promise<T>): Promise<T>;
}

/**
 * A timer per call: what a Worker needs, since a timer belongs to the request that set it and is
 * cancelled when that request ends, so one request's timer cannot end another's call.
 */
export const timerPerCall: CallDeadlines = { race: withDeadline };

/**
 * One sweep for every call of a long-lived process (a Deno node): calls wait in a set, and an
 * interval of `everyMs`, started by the first call and stopped by the first sweep that finds none
 * waiting, fails those past their deadline, up to `everyMs` late. A timer per call costs more
 * than the rest of a local read's call.
 */
export class SweptDeadlines implements CallDeadlines {
  private readonly everyMs: number;
  private readonly waiting = new Set<{ deadline: number; expire(): void }>();
  private sweep: ReturnType<typeof setInterval> | undefined;

  constructor(everyMs: number) {
    this.everyMs = everyMs;
  }

  race<T>(deadline: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call = { deadline, expire: () => reject(new Error("no answer before the deadline")) };
      this.waiting.add(call);
      this.sweep ??= setInterval(() => this.expire(Date.now()), this.everyMs);
      const settle = () => this.waiting.delete(call);
      let running: Promise<T>;
      try {
        running = work();
      } catch (error) {
        settle();
        return reject(error);
      }
      running.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  /** Calls waiting now. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  private expire(now: number): void {
    for (const call of this.waiting) {
      if (call.deadline > now) continue;
      this.waiting.delete(call);
      call.expire();
    }
    if (this.waiting.size === 0 && this.sweep !== undefined) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }
}

/** Leader-aware caller shared by every request of one Worker isolate. */
export class ReplicaCaller {
  private readonly directory: ReplicaDirectory;
  private readonly policy: RetryPolicy;
  private readonly deadlines: CallDeadlines;
  private readonly leaders = new Map<string, number>();

  constructor(directory: ReplicaDirectory, policy: RetryPolicy = defaultRetryPolicy, deadlines: CallDeadlines = timerPerCall) {
    this.directory = directory;
    this.policy = policy;
    this.deadlines = deadlines;
  }

  /** The node that runs replica `id` of `group`, on hosts with numbered nodes (ReplicaDirectory.nodeOf). */
  nodeOf(group: GroupDescriptor, id: number): number | undefined {
    return this.directory.nodeOf?.(group, id);
  }

  /** The cached leader of `group`, if any. */
  leaderOf(group: string): number | undefined {
    return this.leaders.get(group);
  }

  /** Remembers `leader` as the leader of `group` (a transfer just finished). */
  noteLeader(group: string, leader: number): void {
    this.leaders.set(group, leader);
  }

  /**
   * Calls `path` at the group's leader until it gives a final answer. `isWrite` decides what an
   * exhausted retry means: "unknown" (may have been applied) for writes, "unavailable" for reads.
   * `localAnswer` (a read any replica may serve: `stale`) first asks the replica local to this
   * router, if the directory has one, and takes its answer when `localAnswer` accepts it; anything
   * else (a refusal, an answer a replica that has not caught up could give, an error) goes to the
   * leader as usual. The local replica is not remembered as the leader.
   */
  async call<T>(group: GroupDescriptor, path: string, body: unknown, isWrite: boolean, options: { localAnswer?: (answer: Record<string, unknown>) => boolean } = {}): Promise<CallOutcome<T>> {
    const local = options.localAnswer === undefined ? undefined : this.directory.localReplica?.(group);
    if (local !== undefined && group.replicas.some((replica) => replica.id === local)) {
      const answer = await this.direct<Record<string, unknown>>(group, local, path, body);
      if (answer !== undefined && options.localAnswer!(answer)) return { kind: "answer", answer: answer as T };
    }
    const deadline = Date.now() + this.policy.deadlineMs;
    const hint = this.leaders.get(group.name);
    // A hint of a replica the group no longer has (removed since) is no hint.
    let target = hint !== undefined && group.replicas.some((replica) => replica.id === hint) ? hint : group.replicas[0]!.id;
    let mayHaveApplied = false;
    let lastProblem = "no replica answered";
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      if (attempt > 0) await sleep(this.backoff(attempt));
      let answer: Record<string, unknown>;
      try {
        // Bounded by the deadline: a replica that never answers must not hold the request forever.
        answer = await this.deadlines.race(deadline, async () => (await (await this.directory.call(group, target, path, body)).json()) as Record<string, unknown>);
      } catch (error) {
        mayHaveApplied ||= isWrite;
        lastProblem = `replica ${target} unreachable: ${String(error)}`;
        target = this.next(group, target);
        continue;
      }
      const kind = typeof answer.kind === "string" ? answer.kind : undefined;
      if (kind === "staleEpoch") return { kind: "staleEpoch", epoch: Number(answer.epoch), mayHaveApplied };
      if (kind === "replicaRetired") {
        // Removed from its group (or its group deleted): the caller's record is stale; it re-reads it.
        this.leaders.delete(group.name);
        return { kind: "staleEpoch", epoch: group.epoch, mayHaveApplied };
      }
      if (kind === undefined || !retryableKinds.has(kind)) {
        this.leaders.set(group.name, target);
        return { kind: "answer", answer: answer as T };
      }
      if (kind === "unknown") mayHaveApplied ||= isWrite;
      lastProblem = `replica ${target} answered ${kind}`;
      const leader = kind === "notLeader" ? Number((answer as Partial<ReplicaRefusal & { leader: number }>).leader ?? 0) : 0;
      // A leader the record does not list yet (added since the record was read) is followed too:
      // replica names are deterministic, so it can be reached all the same.
      if (leader > 0) {
        target = leader;
        this.leaders.set(group.name, leader);
        if (attempt < 3) attempt = 0; // a redirect is not a failure: no backoff for the first hops
      } else if (kind !== "unknown") {
        this.leaders.delete(group.name);
        // "busy" comes from the leader itself: stay. A replica that knows no leader (cut off from
        // its peers, or just woken) cannot tell where the leader is, but another replica may know
        // one or elect one: move on, or a partitioned old leader would keep the request until the
        // deadline while the majority already serves under a new leader.
        target = kind === "busy" ? target : this.next(group, target);
      }
    }
    return mayHaveApplied ? { kind: "unknown", detail: lastProblem } : { kind: "unavailable", detail: lastProblem };
  }

  /** Calls one specific replica once (status, bootstrap, faults); undefined when unreachable. */
  async direct<T>(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<T | undefined> {
    try {
      const response = await this.directory.call(group, id, path, body);
      return (await response.json()) as T;
    } catch {
      return undefined;
    }
  }

  private next(group: GroupDescriptor, current: number): number {
    const ids = group.replicas.map((r) => r.id);
    return ids[(ids.indexOf(current) + 1) % ids.length]!;
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.policy.backoffMaxMs, this.policy.backoffFirstMs * 2 ** Math.min(attempt, 10));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** Runs `work`, or throws once `deadline` (epoch milliseconds) passes without its result. */
export async function withDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no answer before the deadline")), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
