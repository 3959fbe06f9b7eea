/**
 * The dependency graph of a transaction history (Adya's direct serialization graph, as Elle infers
 * it): nodes are the transactions that committed (every `ok` one, and every `info` one whose write
 * someone observed), edges are
 *   ww  k: T1 wrote k, T2 wrote a later version of k (the next one known; versions order writes),
 *   wr  k: T2 read the version of k that T1 wrote,
 *   rw  k: T1 read a version of k, T2 wrote the next known version after it (anti-dependency),
 *   rt   : T1 completed before T2 was invoked (real time, for strict serializability).
 * A read is tied to its writer by (key, version) when a committed writer reported that version,
 * otherwise by (key, value): values written to a key should be unique. Reads that can be tied to
 * nothing sound (a check whose version nobody reported, an absent read of a key that some
 * transaction deleted) add only the edges that are certain. What needs no cycle is reported as a
 * direct anomaly: G1a (read of an aborted write), G1b (read of an intermediate write), a read of
 * a value nobody wrote, two writes reporting one version, a read whose value and version disagree,
 * a transaction that read its own write, and a committed transaction whose checks and reads disagree.
 */
import type { TxnOperation } from "./txn-history.ts";
import { isAbsentCheck } from "./txn-history.ts";
import { realTimeEdges } from "./txn-real-time.ts";

/** The kinds of dependency edges. */
export type DependencyKind = "ww" | "wr" | "rw" | "rt";

/** One edge `from -> to` between transaction indexes; key and versions say why (null for rt). */
export interface DependencyEdge {
  readonly from: number;
  readonly to: number;
  readonly kind: DependencyKind;
  readonly key: string | null;
  /** ww: the version `from` wrote; wr: the version read; rw: the version `from` read. */
  readonly fromVersion: number | null;
  /** ww and rw: the version `to` wrote; wr: the version read. */
  readonly toVersion: number | null;
}

/** Kinds of anomalies found without a cycle. */
export type DirectAnomalyKind = "G1a" | "G1b" | "garbage-read" | "duplicate-version" | "inconsistent-read" | "future-read" | "internal";

/** An anomaly found without a cycle, with the transactions involved (reader first) and why. */
export interface DirectAnomaly {
  readonly kind: DirectAnomalyKind;
  readonly key: string;
  readonly transactions: readonly number[];
  readonly explanation: string;
}

/** The graph and what building it found. */
export interface DependencyGraph {
  /** Indexes of the committed transactions, ascending. */
  readonly nodes: readonly number[];
  readonly edges: readonly DependencyEdge[];
  /** Outgoing edges of each node. */
  readonly outgoing: ReadonlyMap<number, readonly DependencyEdge[]>;
  readonly anomalies: readonly DirectAnomaly[];
  /** Reads with no certain writer (version reported by nobody, or values not unique). */
  readonly unresolvedReadsCount: number;
  /** `info` transactions known to have committed because a write of theirs was read. */
  readonly observedIndeterminateCount: number;
}

/** One write of one transaction; `version` is known once reported or observed. */
interface WriteRecord {
  readonly transaction: number;
  readonly key: string;
  /** Null for a delete. */
  readonly value: string | null;
  /** False for an earlier write of a key the same transaction wrote again. */
  readonly final: boolean;
  version: number | null;
}

/** One read of a committed transaction; value undefined when only the version is known (a check). */
interface ObservedRead {
  readonly reader: number;
  readonly key: string;
  readonly found: boolean;
  readonly value: string | null | undefined;
  readonly version: number;
}

/** Builds the dependency graph of `operations` (as from parseTxnHistory or TxnHistoryRecorder). */
export function buildDependencyGraph(operations: readonly TxnOperation[]): DependencyGraph {
  const builder = new GraphBuilder(operations);
  return builder.build();
}

class GraphBuilder {
  readonly #operations: readonly TxnOperation[];
  readonly #anomalies: DirectAnomaly[] = [];
  readonly #edges: DependencyEdge[] = [];
  /** Committed writes by key and version. */
  readonly #byVersion = new Map<string, Map<number, WriteRecord>>();
  /** Every put (of any outcome) by key and value. */
  readonly #byValue = new Map<string, Map<string, WriteRecord[]>>();
  readonly #deletedKeys = new Set<string>();
  readonly #committed = new Set<number>();
  #unresolved = 0;
  #observedIndeterminate = 0;

  constructor(operations: readonly TxnOperation[]) {
    this.#operations = operations;
  }

  build(): DependencyGraph {
    for (const operation of this.#operations) this.#indexWrites(operation);
    const reads = this.#operations.flatMap((operation) => (operation.outcome === "ok" ? this.#readsOf(operation, true) : []));
    // Reads with values first: they can reveal the versions of indeterminate writes.
    const resolved = new Map<ObservedRead, WriteRecord | null | undefined | "anomaly">();
    for (const read of reads) if (read.value !== undefined && read.found) resolved.set(read, this.#resolveByValue(read));
    for (const index of this.#committed) {
      const operation = this.#operations[index]!;
      if (operation.outcome === "info") reads.push(...this.#readsOf(operation, false));
    }
    for (const read of reads) if (!resolved.has(read)) resolved.set(read, this.#resolveByVersion(read));
    for (const operation of this.#operations) if (operation.outcome === "ok") this.#checkInternal(operation);
    const orders = this.#versionOrders();
    this.#addWriteEdges(orders);
    for (const [read, writer] of resolved) this.#addReadEdges(read, writer, orders);
    const nodes = [...this.#committed].sort((a, b) => a - b);
    this.#edges.push(...realTimeEdges(this.#operations, this.#committed));
    const outgoing = new Map<number, DependencyEdge[]>(nodes.map((node) => [node, []]));
    for (const edge of this.#edges) outgoing.get(edge.from)!.push(edge);
    return {
      nodes,
      edges: this.#edges,
      outgoing,
      anomalies: this.#anomalies,
      unresolvedReadsCount: this.#unresolved,
      observedIndeterminateCount: this.#observedIndeterminate,
    };
  }

  #indexWrites(operation: TxnOperation): void {
    if (operation.outcome === "ok") this.#committed.add(operation.index);
    const writes = operation.request.writes;
    for (let position = 0; position < writes.length; position++) {
      const write = writes[position]!;
      const final = !writes.slice(position + 1).some((later) => later.key === write.key);
      const reported = operation.outcome === "ok" && final ? operation.response!.versions[write.key] : undefined;
      const record: WriteRecord = { transaction: operation.index, key: write.key, value: write.op === "put" ? write.value : null, final, version: reported ?? null };
      if (write.op === "delete") this.#deletedKeys.add(write.key);
      else pushTo(mapOf(this.#byValue, write.key), write.value, record);
      if (record.version !== null) this.#registerVersion(record);
    }
  }

  /** Records a committed write's version; a second write claiming the same version is an anomaly. */
  #registerVersion(record: WriteRecord): void {
    const versions = mapOf(this.#byVersion, record.key);
    const other = versions.get(record.version!);
    if (other !== undefined && other.transaction !== record.transaction) {
      this.#anomaly("duplicate-version", record.key, [other.transaction, record.transaction], `T${other.transaction} and T${record.transaction} both wrote ${JSON.stringify(record.key)} at version ${record.version}`);
      return;
    }
    versions.set(record.version!, record);
  }

  /** What a transaction read: its reads' results (when answered) and, as it committed, its checks. */
  #readsOf(operation: TxnOperation, withResponse: boolean): ObservedRead[] {
    const reads: ObservedRead[] = [];
    if (withResponse) {
      for (const read of operation.response!.reads) reads.push({ reader: operation.index, key: read.key, found: read.found, value: read.value, version: read.version });
    }
    for (const check of operation.request.checks) {
      const absent = isAbsentCheck(check);
      reads.push({ reader: operation.index, key: check.key, found: !absent, value: absent ? null : undefined, version: absent ? 0 : check.version });
    }
    return reads;
  }

  /** The writer of a read that returned a value; undefined when it cannot be told, "anomaly" when reported. */
  #resolveByValue(read: ObservedRead): WriteRecord | undefined | "anomaly" {
    const known = this.#byVersion.get(read.key)?.get(read.version);
    const candidates = this.#byValue.get(read.key)?.get(read.value!) ?? [];
    const shown = `${JSON.stringify(read.key)} = ${JSON.stringify(read.value)} at version ${read.version}`;
    if (known !== undefined) {
      if (known.value === read.value) return known;
      this.#anomaly("inconsistent-read", read.key, [read.reader, known.transaction], `T${read.reader} read ${shown}, but T${known.transaction} wrote ${known.value === null ? "a delete" : JSON.stringify(known.value)} at that version`);
      return "anomaly";
    }
    if (candidates.length === 0) {
      this.#anomaly("garbage-read", read.key, [read.reader], `T${read.reader} read ${shown}, a value no transaction wrote`);
      return "anomaly";
    }
    if (candidates.length > 1) {
      this.#unresolved++;
      return undefined;
    }
    const writer = candidates[0]!;
    const outcome = this.#operations[writer.transaction]!.outcome;
    if (outcome === "fail") {
      this.#anomaly("G1a", read.key, [read.reader, writer.transaction], `T${read.reader} read ${shown}, written by T${writer.transaction}, which aborted`);
      return "anomaly";
    }
    if (!writer.final) {
      this.#anomaly("G1b", read.key, [read.reader, writer.transaction], `T${read.reader} read ${shown}, an intermediate write of T${writer.transaction}, which wrote the key again`);
      return "anomaly";
    }
    if (writer.version !== null) {
      this.#anomaly("inconsistent-read", read.key, [read.reader, writer.transaction], `T${read.reader} read ${shown}, but T${writer.transaction} wrote that value at version ${writer.version}`);
      return "anomaly";
    }
    // An indeterminate (or unreported) write that someone read: it committed, at this version.
    writer.version = read.version;
    this.#registerVersion(writer);
    if (!this.#committed.has(writer.transaction)) {
      this.#committed.add(writer.transaction);
      this.#observedIndeterminate++;
    }
    return writer;
  }

  /** The writer of a read known by version only; null for the initial state, undefined when uncertain. */
  #resolveByVersion(read: ObservedRead): WriteRecord | null | undefined {
    if (!read.found) {
      if (this.#deletedKeys.has(read.key)) this.#unresolved++;
      return this.#deletedKeys.has(read.key) ? undefined : null;
    }
    const writer = this.#byVersion.get(read.key)?.get(read.version);
    if (writer === undefined) this.#unresolved++;
    return writer;
  }

  /** A committed transaction's checks held, so its reads of the same keys must agree with them. */
  #checkInternal(operation: TxnOperation): void {
    for (const check of operation.request.checks) {
      const read = operation.response!.reads.find((candidate) => candidate.key === check.key);
      if (read === undefined) continue;
      const agrees = isAbsentCheck(check) ? !read.found : read.found && read.version === check.version;
      if (!agrees) {
        const expected = isAbsentCheck(check) ? "absent" : `version ${check.version}`;
        this.#anomaly("internal", check.key, [operation.index], `T${operation.index} committed with check ${JSON.stringify(check.key)} ${expected} but read it at version ${read.version}${read.found ? "" : " (absent)"}`);
      }
    }
  }

  /** The known committed writes of each key in version order. */
  #versionOrders(): Map<string, WriteRecord[]> {
    const orders = new Map<string, WriteRecord[]>();
    for (const [key, versions] of this.#byVersion) {
      const writes = [...versions.values()].filter((write) => this.#committed.has(write.transaction));
      orders.set(key, writes.sort((a, b) => a.version! - b.version!));
    }
    return orders;
  }

  #addWriteEdges(orders: Map<string, WriteRecord[]>): void {
    for (const [key, writes] of orders) {
      for (let position = 1; position < writes.length; position++) {
        const previous = writes[position - 1]!;
        const next = writes[position]!;
        this.#edges.push({ from: previous.transaction, to: next.transaction, kind: "ww", key, fromVersion: previous.version, toVersion: next.version });
      }
    }
  }

  #addReadEdges(read: ObservedRead, writer: WriteRecord | null | undefined | "anomaly", orders: Map<string, WriteRecord[]>): void {
    // A read already reported as an anomaly has no trustworthy version; an absent read of a deleted key, no certain one.
    if (writer === "anomaly" || (writer === undefined && !read.found && this.#deletedKeys.has(read.key))) return;
    if (writer !== undefined && writer !== null) {
      if (writer.transaction === read.reader) {
        this.#anomaly("future-read", read.key, [read.reader], `T${read.reader} read ${JSON.stringify(read.key)} at version ${read.version}, which it wrote itself`);
        return;
      }
      this.#edges.push({ from: writer.transaction, to: read.reader, kind: "wr", key: read.key, fromVersion: read.version, toVersion: read.version });
    }
    const next = firstAfter(orders.get(read.key) ?? [], read.version);
    if (next !== undefined && next.transaction !== read.reader) {
      this.#edges.push({ from: read.reader, to: next.transaction, kind: "rw", key: read.key, fromVersion: read.version, toVersion: next.version });
    }
  }

  #anomaly(kind: DirectAnomalyKind, key: string, transactions: number[], explanation: string): void {
    this.#anomalies.push({ kind, key, transactions, explanation });
  }
}

/** The first write in `writes` (ascending versions) whose version is above `version`, by binary search. */
function firstAfter(writes: readonly WriteRecord[], version: number): WriteRecord | undefined {
  let low = 0;
  let high = writes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (writes[middle]!.version! > version) high = middle;
    else low = middle + 1;
  }
  return writes[low];
}

function mapOf<K, V, W>(outer: Map<K, Map<V, W>>, key: K): Map<V, W> {
  let inner = outer.get(key);
  if (inner === undefined) outer.set(key, (inner = new Map()));
  return inner;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
