/** A small driver for KV state machine tests: numbers entries, encodes commands and reads the whole state. */
import { encodeCommand } from "../../src/kv/command-codec.ts";
import type { Command, Operation } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import type { ApplyResult } from "../../src/kv/result.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import type { KvStateMachineOptions } from "../../src/kv/state-machine.ts";
import type { KvEntry } from "../../src/kv/store.ts";

/** Drives one KvStateMachine over a memory store, giving each entry the index after the applied one. */
export class Harness {
  readonly machine: KvStateMachine;
  private readonly lastSeqByClient = new Map<string, number>();

  /** A harness around a fresh machine made with `options`. */
  constructor(options: KvStateMachineOptions = {}) {
    this.machine = new KvStateMachine(new MemoryKvStore(), options);
  }

  /** Applies `command` as the next entry. */
  applyCommand(command: Command): ApplyResult {
    return this.applyBytes(encodeCommand(command));
  }

  /** Applies raw entry bytes as the next entry. */
  applyBytes(data: Uint8Array): ApplyResult {
    return this.machine.apply(this.machine.appliedIndex + 1, data);
  }

  /** Applies `operation` as client `clientId`'s next command (seq 1, 2, ...) at `timeMs`. */
  run(operation: Operation, options: { clientId?: string; timeMs?: number } = {}): ApplyResult {
    const clientId = options.clientId ?? "tester";
    const seq = (this.lastSeqByClient.get(clientId) ?? 0) + 1;
    this.lastSeqByClient.set(clientId, seq);
    return this.applyCommand({ clientId, seq, timeMs: options.timeMs ?? 0, operation });
  }

  /** Every record, in key order. */
  everything(): KvEntry[] {
    return allEntries(this.machine);
  }
}

/** Every record of `machine`, in key order, read page by page through its scan. */
export function allEntries(machine: KvStateMachine): KvEntry[] {
  const entries: KvEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = machine.scan(cursor === undefined ? {} : { cursor });
    entries.push(...page.entries);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return entries;
}

/** A put of the UTF-8 text `text` at `key`. */
export function put(key: string, text: string, condition?: { ifVersion: number } | { ifAbsent: true }): Operation {
  const value = new TextEncoder().encode(text);
  return condition === undefined ? { type: "put", key, value } : { type: "put", key, value, condition };
}

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
