/**
 * Commands that a Raft group replicates and the KV state machine applies, and their validation.
 * Validation is defensive about shapes, because decoded commands come from bytes off the log.
 */
import { batchOperationsMax, clientIdBytesMax, rangeInstallEntriesMax, requestIdBytesMax, valueBytesMax } from "../shared/limits.ts";
import { keyProblemOf, utf8BytesOf } from "./key-order.ts";
import type { ApplyResult } from "./result.ts";
import { spanProblemOf, type KeyspaceMode, type Span } from "./span.ts";
import { txnProblemOf, type TxnOperation } from "./txn-command.ts";
import type { TxnStateJson } from "./txn-state.ts";

/** A write's precondition: the key's current version equals `ifVersion` (0 = absent), or the key is absent. */
export type Condition = { readonly ifVersion: number } | { readonly ifAbsent: true };

/** Writes `value` at `key`, if `condition` holds. */
export interface PutOperation {
  readonly type: "put";
  readonly key: string;
  readonly value: Uint8Array;
  readonly condition?: Condition;
}

/** Removes `key`, if `condition` holds. */
export interface DeleteOperation {
  readonly type: "delete";
  readonly key: string;
  readonly condition?: Condition;
}

/** Inside a batch only: requires that `key` has version `ifVersion` (0 = absent) and writes nothing. */
export interface CheckOperation {
  readonly type: "check";
  readonly key: string;
  readonly ifVersion: number;
}

/** One step of a batch. */
export type BatchStep = PutOperation | DeleteOperation | CheckOperation;

/** Steps applied atomically and in order: when any condition fails, none is applied. */
export interface BatchOperation {
  readonly type: "batch";
  readonly ops: readonly BatchStep[];
}

/** Changes no data; refreshes the client's session (keepalive). */
export interface NoopOperation {
  readonly type: "noop";
}

/** A record as a range install carries it (its version is kept). */
export interface InstalledRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly version: number;
}

/** A client session as a range install carries it from the source group. */
export interface InstalledSession {
  readonly clientId: string;
  readonly lastSeq: number;
  readonly result: ApplyResult;
}

/** One step of a range saga in one group (see ownership.ts for what each does). `saga` names the operation. */
export type RangeChange =
  | { readonly action: "init"; readonly mode: KeyspaceMode; readonly spans: readonly Span[] }
  | { readonly action: "freeze"; readonly saga: string; readonly span: Span }
  | { readonly action: "unfreeze"; readonly saga: string }
  | {
      readonly action: "install";
      readonly saga: string;
      readonly span: Span;
      readonly records: readonly InstalledRecord[];
      readonly sessions: readonly InstalledSession[];
      /** The source's version counter: the target's counter rises to at least it, so versions keep increasing. */
      readonly versionFloor: number;
      /** The intents and transaction records at the page's keys, and the source's ended transactions (range-txn.ts); checked when applied. */
      readonly txn?: TxnStateJson;
    }
  | { readonly action: "abortInstall"; readonly saga: string }
  | { readonly action: "acquire"; readonly saga: string; readonly span: Span }
  | { readonly action: "release"; readonly saga: string; readonly span: Span; readonly to: string };

/** Changes what the group owns. */
export interface RangeOperation {
  readonly type: "range";
  readonly change: RangeChange;
}

/** What a command does. */
export type Operation = PutOperation | DeleteOperation | BatchOperation | NoopOperation | RangeOperation | TxnOperation;

/**
 * One replicated command. `clientId` and `seq` identify it in the client's session (Raft thesis
 * 6.3); `timeMs` is the proposer's wall clock, used only to expire sessions; `requestId` is carried
 * for tracing and ignored by the state machine.
 */
export interface Command {
  readonly clientId: string;
  /** Positive safe integer; a client numbers its commands 1, 2, 3, ... and has one in flight at a time. */
  readonly seq: number;
  /** Non-negative safe integer, in milliseconds since the epoch. */
  readonly timeMs: number;
  readonly requestId?: string;
  readonly operation: Operation;
}

/** A command that cannot be applied; `reason` says why, for people. */
export interface BadCommand {
  readonly ok: false;
  readonly code: "badCommand";
  readonly reason: string;
}

/** Why `command` is invalid, or undefined when it is valid. Proposers call this before encoding. */
export function validateCommand(command: Command): BadCommand | undefined {
  const reason = envelopeProblemOf(command) ?? operationProblemOf(command.operation);
  return reason === undefined ? undefined : badCommand(reason);
}

/** Builds the BadCommand value for `reason`. */
export function badCommand(reason: string): BadCommand {
  return { ok: false, code: "badCommand", reason };
}

function envelopeProblemOf(command: Command): string | undefined {
  if (typeof command !== "object" || command === null) return "command must be an object";
  const clientIdProblem = textProblemOf(command.clientId, "clientId", clientIdBytesMax);
  if (clientIdProblem !== undefined) return clientIdProblem;
  if (!isSafeInteger(command.seq) || command.seq < 1) return "seq must be a positive safe integer";
  if (!isSafeInteger(command.timeMs) || command.timeMs < 0) return "timeMs must be a non-negative safe integer";
  if (command.requestId !== undefined) return textProblemOf(command.requestId, "requestId", requestIdBytesMax);
  return undefined;
}

function operationProblemOf(operation: Operation): string | undefined {
  if (typeof operation !== "object" || operation === null) return "operation must be an object";
  switch (operation.type) {
    case "put":
    case "delete":
      return stepProblemOf(operation);
    case "batch":
      return batchProblemOf(operation);
    case "noop":
      return undefined;
    case "range":
      return rangeChangeProblemOf(operation.change);
    case "txn":
      return txnProblemOf(operation, stepProblemOf);
    default:
      return `unknown operation type ${JSON.stringify((operation as { type?: unknown }).type)}`;
  }
}

function rangeChangeProblemOf(change: RangeChange): string | undefined {
  if (typeof change !== "object" || change === null) return "range change must be an object";
  if (change.action !== "init" && (typeof change.saga !== "string" || change.saga.length === 0 || change.saga.length > 128)) {
    return "range change needs a saga id of 1 to 128 characters";
  }
  switch (change.action) {
    case "init":
      if (change.mode !== "range" && change.mode !== "hash") return "init mode must be range or hash";
      if (!Array.isArray(change.spans)) return "init spans must be an array";
      return change.spans.map(spanProblemOf).find((problem) => problem !== undefined);
    case "freeze":
    case "acquire":
      return spanProblemOf(change.span);
    case "release":
      return spanProblemOf(change.span) ?? (typeof change.to === "string" && change.to.length > 0 ? undefined : "release needs the receiving group");
    case "install":
      return spanProblemOf(change.span) ?? installProblemOf(change);
    case "unfreeze":
    case "abortInstall":
      return undefined;
    default:
      return `unknown range action ${JSON.stringify((change as { action?: unknown }).action)}`;
  }
}

function installProblemOf(change: Extract<RangeChange, { action: "install" }>): string | undefined {
  if (!Array.isArray(change.records) || !Array.isArray(change.sessions)) return "install needs records and sessions arrays";
  if (change.records.length > rangeInstallEntriesMax || change.sessions.length > rangeInstallEntriesMax) return `install holds more than ${rangeInstallEntriesMax} records or sessions`;
  if (!isSafeInteger(change.versionFloor) || change.versionFloor < 0) return "versionFloor must be a non-negative safe integer";
  for (const record of change.records) {
    const problem = keyProblemOf(record?.key);
    if (problem !== undefined) return `installed record: ${problem}`;
    if (!(record.value instanceof Uint8Array) || record.value.length > valueBytesMax) return "installed record value must be bytes within valueBytesMax";
    if (!isSafeInteger(record.version) || record.version < 1 || record.version > change.versionFloor) return "installed record version must be within 1..versionFloor";
  }
  for (const session of change.sessions) {
    if (typeof session?.clientId !== "string" || session.clientId.length === 0 || !isSafeInteger(session.lastSeq) || session.lastSeq < 1) return "installed session is malformed";
    if (typeof session.result !== "object" || session.result === null || typeof session.result.ok !== "boolean") return "installed session result is malformed";
  }
  return undefined;
}

function batchProblemOf(batch: BatchOperation): string | undefined {
  if (!Array.isArray(batch.ops)) return "batch ops must be an array";
  if (batch.ops.length === 0) return "batch must hold at least one step";
  if (batch.ops.length > batchOperationsMax) return `batch holds more than ${batchOperationsMax} steps`;
  for (let index = 0; index < batch.ops.length; index++) {
    const problem = stepProblemOf(batch.ops[index] as BatchStep);
    if (problem !== undefined) return `batch step ${index}: ${problem}`;
  }
  return undefined;
}

function stepProblemOf(step: BatchStep): string | undefined {
  if (typeof step !== "object" || step === null) return "step must be an object";
  if (step.type !== "put" && step.type !== "delete" && step.type !== "check") {
    return `unknown step type ${JSON.stringify((step as { type?: unknown }).type)}`;
  }
  const keyProblem = keyProblemOf(step.key);
  if (keyProblem !== undefined) return keyProblem;
  switch (step.type) {
    case "put":
      if (!(step.value instanceof Uint8Array)) return "put value must be a Uint8Array";
      if (step.value.length > valueBytesMax) return `value is more than ${valueBytesMax} bytes`;
      return step.condition === undefined ? undefined : conditionProblemOf(step.condition);
    case "delete":
      return step.condition === undefined ? undefined : conditionProblemOf(step.condition);
    case "check":
      return versionProblemOf(step.ifVersion);
  }
}

function conditionProblemOf(condition: Condition): string | undefined {
  if (typeof condition !== "object" || condition === null) return "condition must be an object";
  const hasVersion = "ifVersion" in condition;
  const hasAbsent = "ifAbsent" in condition;
  if (hasVersion === hasAbsent) return "condition must hold exactly one of ifVersion and ifAbsent";
  if (hasAbsent) return condition.ifAbsent === true ? undefined : "ifAbsent must be true";
  return versionProblemOf(condition.ifVersion);
}

function versionProblemOf(version: unknown): string | undefined {
  return isSafeInteger(version) && version >= 0 ? undefined : "ifVersion must be a non-negative safe integer";
}

function textProblemOf(text: unknown, what: string, bytesMax: number): string | undefined {
  if (typeof text !== "string") return `${what} must be a string`;
  const bytes = utf8BytesOf(text);
  if (bytes === undefined) return `${what} must be well-formed UTF-16`;
  if (bytes === 0 || bytes > bytesMax) return `${what} must be 1 to ${bytesMax} bytes of UTF-8`;
  return undefined;
}

function isSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value);
}
