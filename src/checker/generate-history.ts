/**
 * Generator of concurrent key-value histories that are linearizable by construction, for tests and
 * benchmarks of the checker. Each call takes effect on a reference register at one instant between
 * its invoke and its completion; an `info` call may or may not have taken effect.
 */
import { assert } from "../shared/assert.ts";
import type { Rng } from "../shared/rng.ts";
import type { CasArguments, HistoryEvent, OperationFunction, Value } from "./history.ts";
import { HistoryRecorder } from "./recorder.ts";

/** Shape of a generated history. */
export interface GenerateHistoryOptions {
  rng: Rng;
  /** Number of calls invoked. */
  operationsCount: number;
  /** Keys are named `k0`, `k1`, ... */
  keysCount: number;
  /** Concurrent clients; each has at most one call outstanding. */
  processesCount: number;
  /** Chance that a call ends `info` (before or after taking effect). */
  infoProbability: number;
  /** Chance that a read, write or delete ends `fail` without taking effect. */
  failProbability: number;
}

interface Pending {
  f: OperationFunction;
  key: string;
  value: Value | CasArguments;
  /** Set once the call has taken effect: what a read saw, or whether a cas swapped. */
  effect: { read: Value; swapped: boolean } | null;
}

const functions: readonly OperationFunction[] = ["read", "read", "write", "write", "cas", "delete"];

/** Generates a linearizable history; the same options and seed give the same history. */
export function generateHistory(options: GenerateHistoryOptions): HistoryEvent[] {
  const { rng, operationsCount, keysCount, processesCount } = options;
  assert(keysCount >= 1 && processesCount >= 1, "at least one key and one process");
  const register = new Map<string, Value>();
  const pending = new Map<number, Pending>();
  const recorder = new HistoryRecorder();
  let invoked = 0;
  let written = 0;
  while (invoked < operationsCount || pending.size > 0) {
    const process = rng.int(processesCount);
    const call = pending.get(process);
    if (call === undefined) {
      if (invoked === operationsCount) continue;
      const next = newCall(options, register, written++);
      pending.set(process, next);
      recorder.invoke(process, next.f, next.key, next.value);
      invoked++;
    } else if (call.effect === null) {
      if (rng.chance(options.infoProbability)) {
        finish(recorder, pending, process, "info", null);
      } else if (call.f !== "cas" && rng.chance(options.failProbability)) {
        finish(recorder, pending, process, "fail", null);
      } else {
        call.effect = takeEffect(register, call);
      }
    } else if (rng.chance(options.infoProbability)) {
      finish(recorder, pending, process, "info", null);
    } else {
      const type = call.f === "cas" && !call.effect.swapped ? "fail" : "ok";
      finish(recorder, pending, process, type, call.f === "read" ? call.effect.read : null);
    }
  }
  return recorder.events();
}

function newCall(options: GenerateHistoryOptions, register: Map<string, Value>, serial: number): Pending {
  const { rng } = options;
  const f = functions[rng.int(functions.length)]!;
  const key = `k${rng.int(options.keysCount)}`;
  const fresh = `v${serial}`;
  switch (f) {
    case "read":
    case "delete":
      return { f, key, value: null, effect: null };
    case "write":
      return { f, key, value: fresh, effect: null };
    case "cas": {
      // Usually compare against the current value so that some swaps succeed.
      const expected = rng.chance(0.7) ? (register.get(key) ?? null) : `v${rng.int(serial + 1)}`;
      return { f, key, value: [expected, fresh], effect: null };
    }
  }
}

function takeEffect(register: Map<string, Value>, call: Pending): { read: Value; swapped: boolean } {
  const current = register.get(call.key) ?? null;
  switch (call.f) {
    case "read":
      return { read: current, swapped: false };
    case "write":
      register.set(call.key, call.value as string);
      return { read: current, swapped: false };
    case "delete":
      register.set(call.key, null);
      return { read: current, swapped: false };
    case "cas": {
      const [expected, replacement] = call.value as CasArguments;
      if (current !== expected) return { read: current, swapped: false };
      register.set(call.key, replacement);
      return { read: current, swapped: true };
    }
  }
}

function finish(
  recorder: HistoryRecorder,
  pending: Map<number, Pending>,
  process: number,
  type: "ok" | "fail" | "info",
  value: Value,
): void {
  pending.delete(process);
  recorder.complete(process, type, value);
}
