/**
 * A naive reference model of the KV state machine, written for clarity and not for speed: plain
 * maps, a batch applied to a full copy and kept only if no condition failed, sessions as an array
 * filtered on every command. Property tests compare the real machine against it.
 */
import type { BatchStep, Command, Condition } from "../../src/kv/command.ts";
import type { ApplyResult, ConditionFailure } from "../../src/kv/result.ts";
import type { KvEntry } from "../../src/kv/store.ts";
import { compareUtf8Bytes } from "./arbitraries.ts";

interface ModelRecord {
  value: Uint8Array;
  version: number;
}

interface ModelSession {
  clientId: string;
  lastSeq: number;
  result: ApplyResult;
  lastUsedMs: number;
}

/** The reference model; `sessionTtlMs` and `sessionsMax` as in KvStateMachineOptions. */
export class ReferenceKv {
  records = new Map<string, ModelRecord>();
  counter = 0;
  clockMs = 0;
  sessions: ModelSession[] = [];
  private readonly sessionTtlMs: number;
  private readonly sessionsMax: number;

  /** A model with the given session rules. */
  constructor(options: { sessionTtlMs: number; sessionsMax: number }) {
    this.sessionTtlMs = options.sessionTtlMs;
    this.sessionsMax = options.sessionsMax;
  }

  /** Applies one decoded command. */
  apply(command: Command): ApplyResult {
    this.clockMs = Math.max(this.clockMs, command.timeMs);
    this.sessions = this.sessions.filter((session) => this.clockMs - session.lastUsedMs <= this.sessionTtlMs);
    const session = this.sessions.find((candidate) => candidate.clientId === command.clientId);
    if (session !== undefined && command.seq <= session.lastSeq) {
      this.remember({ ...session, lastUsedMs: this.clockMs });
      if (command.seq === session.lastSeq) return session.result;
      return { ok: false, code: "sessionExpired", lastSeq: session.lastSeq };
    }
    const operation = command.operation;
    if (operation.type === "range" || operation.type === "txn") throw new Error("the reference model covers key operations only");
    const steps: BatchStep[] = operation.type === "batch" ? [...operation.ops] : operation.type === "noop" ? [] : [operation];
    const result = this.runSteps(steps, operation.type);
    this.remember({ clientId: command.clientId, lastSeq: command.seq, result, lastUsedMs: this.clockMs });
    return result;
  }

  /** Every record in UTF-8 byte order of keys. */
  entries(): KvEntry[] {
    return [...this.records.keys()]
      .sort(compareUtf8Bytes)
      .map((key) => ({ key, ...(this.records.get(key) as ModelRecord) }));
  }

  private remember(session: ModelSession): void {
    this.sessions = this.sessions.filter((other) => other.clientId !== session.clientId);
    this.sessions.push(session);
    while (this.sessions.length > this.sessionsMax) this.sessions.shift();
  }

  private runSteps(steps: BatchStep[], type: "put" | "delete" | "batch" | "noop"): ApplyResult {
    const draft = new Map(this.records);
    let counter = this.counter;
    const versions: number[] = [];
    const failures: ConditionFailure[] = [];
    steps.forEach((step, index) => {
      const currentVersion = draft.get(step.key)?.version ?? 0;
      const required: Condition | undefined = step.type === "check" ? { ifVersion: step.ifVersion } : step.condition;
      const holds = required === undefined || ("ifAbsent" in required ? currentVersion === 0 : currentVersion === required.ifVersion);
      if (!holds) {
        failures.push({ index, key: step.key, currentVersion });
      } else if (step.type === "check") {
        versions.push(currentVersion);
      } else {
        counter += 1;
        versions.push(counter);
        if (step.type === "put") draft.set(step.key, { value: step.value, version: counter });
        else draft.delete(step.key);
      }
    });
    if (failures.length > 0) return { ok: false, code: "conditionFailed", failures };
    const existed = steps[0] !== undefined && this.records.has(steps[0].key);
    this.records = draft;
    this.counter = counter;
    if (type === "noop") return { ok: true, type: "noop" };
    if (type === "batch") return { ok: true, type: "batch", versions };
    const version = versions[0] as number;
    return type === "put" ? { ok: true, type, version } : { ok: true, type: "delete", version, deleted: existed };
  }
}
