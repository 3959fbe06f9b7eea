/** The key commands: get, put, del, scan, batch and txn. */
import type { BatchOperation, BatchResult, Consistency, TxnRequest, WriteCondition } from "../client/index.ts";
import { stringFlag, type Command, type CommandContext } from "./command.ts";
import { integerFlag, parseJsonLines, readInput, valueInput } from "./input.ts";
import { exitCodes, say, sayJson, shownValue, table, UsageError } from "./output.ts";
import { base64Of } from "../client/bytes.ts";

const consistencies: readonly string[] = ["linearizable", "lease", "stale"];

function consistencyOf(context: CommandContext): Consistency | undefined {
  const value = stringFlag(context.flags, "consistency");
  if (value !== undefined && !consistencies.includes(value)) throw new UsageError("--consistency is linearizable, lease or stale");
  return value as Consistency | undefined;
}

function keyOf(context: CommandContext, usage: string, positionalsMax = 1): string {
  const key = context.positionals[0];
  if (key === undefined || context.positionals.length > positionalsMax) throw new UsageError(`usage: edgeraft ${usage}`);
  return key;
}

const getCommand: Command = {
  name: "get",
  usage: "get KEY [--consistency C]",
  summary: "print a value (raw bytes; with --json its version and group too); exit 1 when absent",
  flags: { consistency: { type: "string" } },
  async run(context) {
    const key = keyOf(context, this.usage);
    const consistency = consistencyOf(context);
    const found = await context.client.get(key, consistency === undefined ? {} : { consistency });
    if (found === undefined) {
      if (context.json) sayJson({ key, found: false });
      else process.stderr.write(`edgeraft: ${key}: not found\n`);
      return exitCodes.notFoundOrConditionFailed;
    }
    if (context.json) sayJson({ key, found: true, version: found.version, group: found.group, value: found.text, valueBase64: base64Of(found.value) });
    else process.stdout.write(found.value);
    return exitCodes.ok;
  },
};

function conditionOf(context: CommandContext): WriteCondition | undefined {
  const ifMatch = integerFlag(context.flags["if-match"], "if-match", 0);
  if (ifMatch !== undefined && context.flags["if-absent"] === true) throw new UsageError("give --if-match or --if-absent, not both");
  if (ifMatch !== undefined) return { ifMatch };
  return context.flags["if-absent"] === true ? { ifAbsent: true } : undefined;
}

const putCommand: Command = {
  name: "put",
  usage: "put KEY [VALUE | --file F | < stdin] [--if-match V | --if-absent]",
  summary: "write a value; exit 1 when the condition does not hold",
  flags: { file: { type: "string" }, "if-match": { type: "string" }, "if-absent": { type: "boolean" } },
  async run(context) {
    const key = keyOf(context, this.usage, 2);
    const condition = conditionOf(context);
    const value = await valueInput(context.positionals[1], stringFlag(context.flags, "file"));
    const written = await context.client.put(key, value, condition);
    if (context.json) sayJson(written);
    else say(`${written.key}: version ${written.version} (group ${written.group})`);
    return exitCodes.ok;
  },
};

const deleteCommand: Command = {
  name: "del",
  usage: "del KEY [--if-match V]",
  summary: "delete a key (absent is fine); exit 1 when the condition does not hold",
  flags: { "if-match": { type: "string" } },
  async run(context) {
    const key = keyOf(context, this.usage);
    const ifMatch = integerFlag(context.flags["if-match"], "if-match", 0);
    const removed = await context.client.delete(key, ifMatch === undefined ? undefined : { ifMatch });
    if (context.json) sayJson(removed);
    else say(removed.deleted ? `${removed.key}: deleted at version ${removed.version}` : `${removed.key}: was absent`);
    return exitCodes.ok;
  },
};

const scanCommand: Command = {
  name: "scan",
  usage: "scan [--prefix P] [--start S] [--end E] [--limit N] [--consistency C]",
  summary: "list keys in order (all pages, at most --limit entries); --json prints JSON lines `load` reads",
  flags: { prefix: { type: "string" }, start: { type: "string" }, end: { type: "string" }, limit: { type: "string" }, consistency: { type: "string" } },
  async run(context) {
    if (context.positionals.length > 0) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const limit = integerFlag(context.flags.limit, "limit", 1) ?? Number.POSITIVE_INFINITY;
    const consistency = consistencyOf(context);
    const bounds = Object.fromEntries((["prefix", "start", "end"] as const).flatMap((name) => {
      const value = stringFlag(context.flags, name);
      return value === undefined ? [] : [[name, value]];
    }));
    const rows: (string | number)[][] = [];
    let count = 0;
    for await (const entry of context.client.scan({ ...bounds, limit: Math.min(1000, limit), ...(consistency === undefined ? {} : { consistency }) })) {
      if (count++ >= limit) break;
      if (context.json) sayJson(entry.text === null ? { key: entry.key, version: entry.version, valueBase64: base64Of(entry.value) } : { key: entry.key, version: entry.version, value: entry.text });
      else rows.push([entry.key, entry.version, shownValue(entry.text, entry.value.length)]);
    }
    if (!context.json) say(rows.length === 0 ? "(no keys)" : table(["KEY", "VERSION", "VALUE"], rows));
    return exitCodes.ok;
  },
};

/** Batch operations from a file: a JSON object {"operations": [...]} or one operation per line. */
function operationsOf(text: string, source: string): BatchOperation[] {
  try {
    const whole = JSON.parse(text) as { operations?: unknown };
    if (Array.isArray(whole.operations)) return whole.operations as BatchOperation[];
  } catch {
    // not one JSON document: JSON lines
  }
  return parseJsonLines(text, source).map((line) => line.value as BatchOperation);
}

function batchRow(result: BatchResult): (string | number)[] {
  const outcome = result.status === 200 ? (result.op === "get" ? shownValue(result.text ?? null, result.value?.length ?? 0) : result.op === "delete" && result.deleted === false ? "was absent" : "ok") : `${result.code}${result.currentVersion === undefined ? "" : ` (current version ${result.currentVersion})`}`;
  return [result.op, result.key, result.status, result.version ?? "", outcome];
}

const batchCommand: Command = {
  name: "batch",
  usage: "batch FILE|-",
  summary: "run operations ({\"operations\": [...]} or one JSON operation per line); exit 1 when one fails",
  flags: {},
  async run(context) {
    const source = context.positionals[0];
    if (source === undefined || context.positionals.length > 1) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const text = new TextDecoder().decode(await readInput(source));
    const results = await context.client.batch(operationsOf(text, source));
    if (context.json) for (const { value, ...result } of results) sayJson(value === undefined ? result : { ...result, valueBase64: base64Of(value) });
    else say(table(["OP", "KEY", "STATUS", "VERSION", "RESULT"], results.map(batchRow)));
    return results.every((result) => result.status === 200) ? exitCodes.ok : exitCodes.notFoundOrConditionFailed;
  },
};

const txnCommand: Command = {
  name: "txn",
  usage: "txn FILE|-",
  summary: "run a transaction ({\"reads\", \"checks\", \"writes\"} as POST /v1/txn takes); exit 1 on a conflict",
  flags: {},
  async run(context) {
    const source = context.positionals[0];
    if (source === undefined || context.positionals.length > 1) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const text = new TextDecoder().decode(await readInput(source));
    let request: TxnRequest;
    try {
      request = JSON.parse(text) as TxnRequest;
    } catch {
      throw new UsageError(`${source}: not a JSON transaction`);
    }
    const result = await context.client.txn(request);
    if (context.json) {
      sayJson({ committed: true, reads: result.reads.map(({ value, text: shown, ...read }) => (value === undefined ? read : shown === null ? { ...read, valueBase64: base64Of(value) } : { ...read, value: shown })), versions: result.versions });
      return exitCodes.ok;
    }
    const rows = [...result.reads.map((read) => ["read", read.key, read.found ? read.version : "", read.found ? shownValue(read.text ?? null, read.value?.length ?? 0) : "(absent)"]), ...Object.entries(result.versions).map(([key, version]) => ["write", key, version, "ok"])];
    say(rows.length === 0 ? "committed" : table(["OP", "KEY", "VERSION", "RESULT"], rows));
    return exitCodes.ok;
  },
};

/** get, put, del, scan, batch, txn. */
export const kvCommands: readonly Command[] = [getCommand, putCommand, deleteCommand, scanCommand, batchCommand, txnCommand];
