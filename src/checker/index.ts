/**
 * The linearizability checker's public API: parse or record a history, check it, describe the verdict.
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
