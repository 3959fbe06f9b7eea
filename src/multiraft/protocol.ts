/**
 * The internal protocol between the router and replicas (Durable Objects or Deno nodes): JSON
 * bodies of the /internal/* routes, with byte values in base64. Pure data and codecs, shared by
 * both sides so they cannot drift apart. Nothing here is reachable through the public Worker.
 */
import { decodeBase64, encodeBase64 } from "../shared/base64.ts";
import type { Command, Condition, Operation, BatchStep, RangeChange } from "../kv/command.ts";
import type { ApplyResult, IntentFound } from "../kv/result.ts";
import type { TxnOperation } from "../kv/txn-command.ts";
import { compareKeys } from "../kv/key-order.ts";

/** What a group owns: a prefix, a half-open key range, a tenant's whole keyspace, or the default keyspace. */
export type Ownership =
  | { readonly prefix: string }
  | { readonly start: string; readonly end?: string }
  | { readonly tenant: string }
  | { readonly default: true };

/** Body of POST /internal/bootstrap: makes a replica a founding member of a group (idempotent). */
export interface BootstrapRequest {
  group: string;
  replica: number;
  voters: number[];
  /** locationHint per replica id, so peers are created near where they belong. */
  locations: Record<string, string>;
  owns: Ownership;
  epoch: number;
  /**
   * A replica added to a running group: it takes its identity but no founding log, and learns the
   * group's configuration from the leader (by log or snapshot) once it is added as a learner.
   */
  join?: boolean;
}

/** Every answer a replica gives to a client request that did not succeed. */
export type ReplicaRefusal =
  | { kind: "notLeader"; leader: number }
  | { kind: "busy" }
  | { kind: "unknown"; reason: string }
  | { kind: "staleEpoch"; epoch: number }
  /** The replica was removed from its group (or its group deleted): it serves nothing, ever again. */
  | { kind: "replicaRetired" }
  | { kind: "uninitialized" }
  | { kind: "wrongRange"; epoch: number; movedTo?: string }
  | { kind: "rangeFrozen"; epoch: number; movedTo?: undefined };

/** Body of POST /internal/write. */
export interface WriteRequest {
  epoch: number;
  command: CommandJson;
}

/** Answer to /internal/write. */
export type WriteReply = { kind: "applied"; result: ApplyResult } | ReplicaRefusal;

/** Body of POST /internal/get. */
export interface GetRequest {
  epoch: number;
  key: string;
  consistency: "linearizable" | "lease" | "stale";
}

/** Answer to /internal/get. */
export type GetReply =
  | { kind: "ok"; found: false }
  | { kind: "ok"; found: true; valueBase64: string; version: number }
  | { kind: "intent"; intents: IntentFound["intents"] }
  | ReplicaRefusal;

/** Body of POST /internal/scan. */
export interface ScanRequestJson {
  epoch: number;
  start?: string;
  end?: string;
  prefix?: string;
  limit: number;
  cursor?: string;
  consistency: "linearizable" | "lease" | "stale";
}

/** Answer to /internal/scan. */
export type ScanReply =
  | { kind: "ok"; entries: { key: string; valueBase64: string; version: number }[]; cursor?: string }
  | { kind: "intent"; intents: IntentFound["intents"] }
  | ReplicaRefusal;

/** The answer of /internal/leadership: the replica's role, term, the leader it knows (0: none) and the replica it is handing leadership to (0: none). */
export interface LeadershipReply {
  kind: "ok";
  role: string;
  term: number;
  leader: number;
  transferee: number;
  /** The replica's last log index (a Deno node adopting a replica learns from it whether the group ever went past its bootstrap). */
  lastIndex: number;
  /** Every member of the configuration it runs, voters and learners. */
  members: number[];
  /** What the replica's group was created to own, and its epoch, as its identity row holds them (a Deno node adopting a replica takes them on). */
  owns: Ownership;
  epoch: number;
}

/** Fault settings of one replica's transport (dev and tests only). */
export interface ReplicaFaults {
  isolated: boolean;
  dropFraction: number;
  delayFraction: number;
  delayMs: number;
}

/** No faults. */
export const noFaults: ReplicaFaults = { isolated: false, dropFraction: 0, delayFraction: 0, delayMs: 0 };

/** A condition or step as JSON. */
type ConditionJson = { ifVersion: number } | { ifAbsent: true };
type StepJson =
  | { type: "put"; key: string; valueBase64: string; condition?: ConditionJson }
  | { type: "delete"; key: string; condition?: ConditionJson }
  | { type: "check"; key: string; ifVersion: number };
type OperationJson = StepJson | { type: "batch"; ops: StepJson[] } | { type: "noop" } | { type: "range"; change: Record<string, unknown> } | Record<string, unknown>;

/** A Command with its byte values in base64. */
export interface CommandJson {
  clientId: string;
  seq: number;
  timeMs: number;
  requestId?: string;
  operation: OperationJson;
}

/** Converts a command to its JSON form. */
export function commandToJson(command: Command): CommandJson {
  const json: CommandJson = { clientId: command.clientId, seq: command.seq, timeMs: command.timeMs, operation: operationToJson(command.operation) };
  if (command.requestId !== undefined) json.requestId = command.requestId;
  return json;
}

function operationToJson(operation: Operation | BatchStep): OperationJson {
  switch (operation.type) {
    case "put":
      return withCondition({ type: "put", key: operation.key, valueBase64: encodeBase64(operation.value) }, operation.condition);
    case "delete":
      return withCondition({ type: "delete", key: operation.key }, operation.condition);
    case "check":
      return { type: "check", key: operation.key, ifVersion: operation.ifVersion };
    case "batch":
      return { type: "batch", ops: operation.ops.map((step) => operationToJson(step) as StepJson) };
    case "noop":
      return { type: "noop" };
    case "range":
      return { type: "range", change: rangeChangeToJson(operation.change) };
    case "txn":
      return "ops" in operation ? { ...operation, ops: operation.ops.map((step) => operationToJson(step) as StepJson) } : { ...operation };
  }
}

/** A range change as JSON: installed records carry their values in base64. */
function rangeChangeToJson(change: RangeChange): Record<string, unknown> {
  if (change.action !== "install") return { ...change };
  return { ...change, records: change.records.map((record) => ({ key: record.key, version: record.version, valueBase64: encodeBase64(record.value) })) };
}

/** A range change from JSON; undefined when an installed value is not base64 (validateCommand checks the rest). */
function rangeChangeFromJson(raw: unknown): RangeChange | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.action !== "install") return raw as unknown as RangeChange;
  if (!Array.isArray(raw.records)) return undefined;
  const records = [];
  for (const record of raw.records as unknown[]) {
    if (!isObject(record) || typeof record.valueBase64 !== "string") return undefined;
    const value = decodeBase64(record.valueBase64);
    if (value === undefined) return undefined;
    records.push({ key: record.key, version: record.version, value });
  }
  return { ...(raw as unknown as RangeChange), records } as RangeChange;
}

function withCondition<T extends object>(value: T, condition: Condition | undefined): T {
  return condition === undefined ? value : { ...value, condition };
}

/** Converts JSON back to a command; undefined when the shape is wrong (validateCommand checks the rest). */
export function commandFromJson(raw: unknown): Command | undefined {
  if (!isObject(raw) || typeof raw.clientId !== "string" || typeof raw.seq !== "number" || typeof raw.timeMs !== "number") return undefined;
  if (raw.requestId !== undefined && typeof raw.requestId !== "string") return undefined;
  const operation = operationFromJson(raw.operation, true);
  if (operation === undefined) return undefined;
  const command: Command = { clientId: raw.clientId, seq: raw.seq, timeMs: raw.timeMs, operation: operation as Operation };
  return raw.requestId === undefined ? command : { ...command, requestId: raw.requestId };
}

function operationFromJson(raw: unknown, topLevel: boolean): Operation | BatchStep | undefined {
  if (!isObject(raw)) return undefined;
  const condition = conditionFromJson(raw.condition);
  if (condition === null) return undefined;
  switch (raw.type) {
    case "put": {
      const value = typeof raw.valueBase64 === "string" ? decodeBase64(raw.valueBase64) : undefined;
      if (typeof raw.key !== "string" || value === undefined) return undefined;
      return condition === undefined ? { type: "put", key: raw.key, value } : { type: "put", key: raw.key, value, condition };
    }
    case "delete":
      if (typeof raw.key !== "string") return undefined;
      return condition === undefined ? { type: "delete", key: raw.key } : { type: "delete", key: raw.key, condition };
    case "check":
      if (topLevel || typeof raw.key !== "string" || typeof raw.ifVersion !== "number") return undefined;
      return { type: "check", key: raw.key, ifVersion: raw.ifVersion };
    case "batch": {
      if (!topLevel || !Array.isArray(raw.ops)) return undefined;
      const ops: BatchStep[] = [];
      for (const item of raw.ops) {
        const step = operationFromJson(item, false);
        if (step === undefined || (step.type !== "put" && step.type !== "delete" && step.type !== "check")) return undefined;
        ops.push(step);
      }
      return { type: "batch", ops };
    }
    case "noop":
      return topLevel ? { type: "noop" } : undefined;
    case "range": {
      const change = topLevel ? rangeChangeFromJson(raw.change) : undefined;
      return change === undefined ? undefined : { type: "range", change };
    }
    case "txn":
      return topLevel ? txnFromJson(raw) : undefined;
    default:
      return undefined;
  }
}

/** A transaction command from JSON; its steps' values decoded from base64 (validateCommand checks the rest). */
function txnFromJson(raw: Record<string, unknown>): TxnOperation | undefined {
  if (raw.ops === undefined) return raw as unknown as TxnOperation;
  if (!Array.isArray(raw.ops)) return undefined;
  const ops: BatchStep[] = [];
  for (const item of raw.ops as unknown[]) {
    const step = operationFromJson(item, false);
    if (step === undefined || (step.type !== "put" && step.type !== "delete" && step.type !== "check")) return undefined;
    ops.push(step);
  }
  return { ...raw, ops } as unknown as TxnOperation;
}

/** undefined = no condition; null = malformed. */
function conditionFromJson(raw: unknown): Condition | undefined | null {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) return null;
  if (raw.ifAbsent === true) return { ifAbsent: true };
  if (typeof raw.ifVersion === "number") return { ifVersion: raw.ifVersion };
  return null;
}

/** Whether `key` falls inside a prefix or range ownership (tenant and default groups own all their keys). */
export function ownsKey(owns: Ownership, key: string): boolean {
  if ("prefix" in owns) return key.startsWith(owns.prefix);
  if ("start" in owns) return compareKeys(key, owns.start) >= 0 && (owns.end === undefined || compareKeys(key, owns.end) < 0);
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
