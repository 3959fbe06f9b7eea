/** Public surface of the KV state machine module: import from here rather than from its files. */
export type { BadCommand, BatchOperation, BatchStep, CheckOperation, Command, Condition } from "./command.ts";
export type { DeleteOperation, NoopOperation, Operation, PutOperation } from "./command.ts";
export { badCommand, validateCommand } from "./command.ts";
export { commandFormatVersion, decodeCommand, encodeCommand } from "./command-codec.ts";
export type { DecodedCommand } from "./command-codec.ts";
export { compareKeys, keyProblemOf, keySuccessor, utf8BytesOf } from "./key-order.ts";
export { MemoryKvStore } from "./memory-store.ts";
export type { ApplyResult, BatchApplied, ConditionFailed, ConditionFailure } from "./result.ts";
export type { DeleteApplied, NoopApplied, PutApplied, SessionExpired } from "./result.ts";
export type { Session, SessionEntry } from "./sessions.ts";
export { decodeSnapshot, encodeSnapshot, snapshotFormatVersion } from "./snapshot-codec.ts";
export type { DecodedSnapshot, KvSnapshot } from "./snapshot-codec.ts";
export { KvStateMachine, sessionTtlMsDefault } from "./state-machine.ts";
export type { KvStateMachineOptions, RestoreResult, ScanPage, ScanRequest } from "./state-machine.ts";
export { keyIsPastRange, scanLowerBoundOf } from "./store.ts";
export type { KvEntry, KvRecord, KvStore, ScanRange } from "./store.ts";
