/**
 * The checkers' public API: parse or record a history (single-key, or transactions), check it for
 * linearizability or strict serializability, describe the verdict.
 */
export type { CasArguments, EventType, HistoryEvent, Operation, OperationFunction, Outcome, Value } from "./history.ts";
export { parseHistory, formatHistory, type ParseHistoryResult } from "./parse.ts";
export { HistoryRecorder } from "./recorder.ts";
export {
  checkHistory,
  checkStepsMaxDefault,
  type CheckOptions,
  type CheckResult,
  type KeyCheckResult,
  type LinearizationFailure,
} from "./check.ts";
export type { SearchOutcome } from "./search.ts";
export { describeKeyFailure, describeOperation, describeSummary } from "./format.ts";
export { generateHistory, type GenerateHistoryOptions } from "./generate-history.ts";
export type { TxnCheck, TxnEvent, TxnOperation, TxnReadResult, TxnRequest, TxnResponse, TxnWrite } from "./txn-history.ts";
export { parseTxnHistory, formatTxnHistory, isTxnEventLine, type ParseTxnHistoryResult } from "./txn-parse.ts";
export { TxnHistoryRecorder } from "./txn-recorder.ts";
export { checkTxnHistory, anomalyKinds, type TxnCheckResult } from "./txn-check.ts";
export type { CycleAnomaly, CycleKind } from "./txn-cycles.ts";
export type { DependencyEdge, DependencyKind, DirectAnomaly, DirectAnomalyKind } from "./txn-graph.ts";
export { describeTransaction, describeTxnAnomalies, describeTxnCycle, describeTxnSummary } from "./txn-format.ts";
export { generateTxnHistory, TxnReferenceStore, type GenerateTxnHistoryOptions } from "./generate-txn-history.ts";
