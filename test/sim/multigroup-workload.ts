/**
 * Clients of the multi-group world: concurrent processes doing reads, writes, deletes and
 * compare-and-sets on a small key set, each routing by its own possibly stale copy of the range
 * table, like src/router: a `wrongRange` answer sends the request to the group it names (or, without
 * a hint, to the group a fresh table names), a `rangeFrozen` answer is retried shortly. Writes keep
 * their session (clientId, seq) across every retry, in whichever group. Recorded for the
 * linearizability checker; a client that gives up records the outcome as unknown (`info`).
 */
import type { Rng } from "../../src/shared/rng.ts";
import { encodeCommand, type ApplyResult, type Operation as KvOperation } from "../../src/kv/index.ts";
import { lookupKey, type RangeTable } from "../../src/multiraft/keyspace.ts";
import { noNode, type NodeId } from "../../src/raft/types.ts";
import { HistoryRecorder, type OperationFunction, type Value } from "../../src/checker/index.ts";
import { tickMs, type WorkloadSettings } from "./options.ts";
import type { MultiGroupWorld } from "./multigroup-world.ts";
import { decodeValue, encodeValue, WorkloadError } from "./workload.ts";

/** A call in progress. */
interface Call {
  readonly f: OperationFunction;
  readonly key: string;
  readonly value: Value;
  readonly seq: number;
  readonly command: Uint8Array | null;
  readonly lease: boolean;
  group: string;
  attempts: number;
  deadline: number;
  resendAt: number | null;
  accepted: boolean;
  /** Changes with every attempt, so a late answer to an abandoned one is ignored. */
  token: number;
}

/** One client process. */
interface Client {
  readonly clientId: string;
  process: number;
  seq: number;
  call: Call | null;
  nextStartTick: number;
  table: RangeTable;
  guesses: Map<string, NodeId>;
  known: Map<string, { value: Value; version: number }>;
  readonly retriesMax: number;
}

/** Counters of the routing, for reports. */
export interface RoutingStats {
  operations: number;
  wrongRange: number;
  movedToHints: number;
  rangeFrozen: number;
}

/** Every client of one multi-group run and the history they record. */
export class MultiGroupWorkload {
  readonly recorder = new HistoryRecorder();
  readonly stats: RoutingStats = { operations: 0, wrongRange: 0, movedToHints: 0, rangeFrozen: 0 };
  paused = false;
  private readonly world: MultiGroupWorld;
  private readonly rng: Rng;
  private readonly settings: WorkloadSettings;
  private readonly clients: Client[] = [];
  private processNext = 0;
  private token = 0;

  constructor(world: MultiGroupWorld, rng: Rng, settings: WorkloadSettings) {
    this.world = world;
    this.rng = rng;
    this.settings = settings;
    for (let index = 0; index < settings.clientsCount; index++) this.addClient(`c${index}`, settings.retriesMax);
  }

  /** Whether any call is in progress. */
  get busy(): boolean {
    return this.clients.some((client) => client.call !== null);
  }

  /** One tick: time out, resend, or start a call. */
  onTick(): void {
    const now = this.world.now;
    for (const client of this.clients) {
      const call = client.call;
      if (call === null) {
        if (!this.paused && now >= client.nextStartTick && client.retriesMax !== Infinity) this.start(client);
      } else if (now >= call.deadline) {
        this.timeout(client, call);
      } else if (call.resendAt !== null && now >= call.resendAt) {
        call.resendAt = null;
        this.submit(client, call, false);
      }
    }
  }

  /** Starts a read of every key by clients that never give up and hold a fresh table (the final check). */
  readEveryKey(): void {
    for (const key of this.world.keys) {
      const client = this.addClient(`final-${key}`, Infinity);
      this.startCall(client, "read", key);
    }
  }

  private addClient(clientId: string, retriesMax: number): Client {
    const client: Client = { clientId, process: this.processNext++, seq: 0, call: null, nextStartTick: 0, table: this.world.table.value, guesses: new Map(), known: new Map(), retriesMax };
    this.clients.push(client);
    return client;
  }

  private start(client: Client): void {
    const { readWeight, writeWeight, deleteWeight, casWeight } = this.settings;
    let roll = this.rng.int(readWeight + writeWeight + deleteWeight + casWeight);
    const key = this.world.keys[this.rng.int(this.world.keys.length)]!;
    if (this.rng.chance(0.2)) client.table = this.world.table.value; // otherwise the copy stays stale
    if ((roll -= readWeight) < 0) this.startCall(client, "read", key);
    else if ((roll -= writeWeight) < 0) this.startCall(client, "write", key);
    else if ((roll -= deleteWeight) < 0) this.startCall(client, "delete", key);
    else this.startCall(client, "cas", key);
  }

  private startCall(client: Client, f: OperationFunction, key: string): void {
    const time = this.world.steps;
    const group = lookupKey(client.table, key).group;
    const base = { f, key, group, attempts: 0, deadline: 0, resendAt: null, accepted: false, token: 0 };
    let call: Call;
    if (f === "read") {
      call = { ...base, value: null, seq: 0, command: null, lease: this.world.options.engine.leaseReads && this.rng.chance(this.settings.leaseReadProbability) };
      this.recorder.invoke(client.process, "read", key, null, time);
    } else {
      const seq = ++client.seq;
      const value = f === "delete" ? null : `${client.clientId}.${seq}`;
      const known = client.known.get(key) ?? { value: null, version: 0 };
      const command = encodeCommand({ clientId: client.clientId, seq, timeMs: this.world.now * tickMs, operation: kvOperation(f, key, value, known.version, this.settings.valuePaddingBytes) });
      call = { ...base, value, seq, command, lease: false };
      this.recorder.invoke(client.process, f, key, f === "cas" ? [known.value, value] : value, time);
    }
    client.call = call;
    this.stats.operations++;
    this.submit(client, call, true);
  }

  /** Sends the call to a replica of its group; answers arrive through callbacks, which only schedule the next step. */
  private submit(client: Client, call: Call, newAttempt: boolean): void {
    if (newAttempt) call.deadline = this.world.now + this.settings.requestTimeoutTicks;
    const token = (call.token = ++this.token);
    const replica = this.world.target(call.group, client.guesses.get(call.group) ?? noNode, this.rng);
    if (replica === undefined || !replica.alive) {
      call.resendAt = this.world.now + 1 + this.rng.int(3);
      return;
    }
    const current = () => client.call === call && call.token === token;
    if (call.f === "read") {
      // Any attempt's answer serves a read: each attempt's read index was taken after the call began.
      // Waiting for the latest attempt only livelocks when a read round takes longer than the timeout.
      this.world.readIndex(replica, `${client.clientId}:${token}`, call.lease, (machine) => {
        if (client.call !== call) return;
        const read = machine.read(call.key);
        if (read.ok) {
          const value = read.record === undefined ? null : decodeValue(read.record.value);
          client.known.set(call.key, { value, version: read.record?.version ?? 0 });
          this.complete(client, "ok", value);
        } else if (read.code !== "intentFound") this.refused(client, call, read);
        else throw new Error("the multigroup workload runs no transactions, so it never meets an intent");
      });
      return;
    }
    const accepted = this.world.propose(replica, client.clientId, call.seq, call.command!, (result) => {
      if (current()) this.writeDone(client, call, result);
    });
    if (accepted) {
      call.accepted = true;
      client.guesses.set(call.group, replica.id);
    } else {
      client.guesses.set(call.group, replica.status().leader);
      call.resendAt = this.world.now + 1 + this.rng.int(3);
    }
  }

  private writeDone(client: Client, call: Call, result: ApplyResult): void {
    if (result.ok && (result.type === "put" || result.type === "delete")) {
      client.known.set(call.key, { value: call.value, version: result.type === "put" ? result.version : 0 });
      this.complete(client, "ok", null);
    } else if (!result.ok && result.code === "conditionFailed" && call.f === "cas") {
      client.known.delete(call.key);
      this.complete(client, "fail", null);
    } else if (!result.ok && (result.code === "wrongRange" || result.code === "rangeFrozen")) {
      this.refused(client, call, result);
    } else {
      throw new WorkloadError(`client ${client.clientId} ${call.f} seq ${call.seq} in ${call.group} got an unexpected result ${JSON.stringify(result)}`);
    }
  }

  /** Follows a refusal like the router: to the group a "moved to" hint names, or the fresh table's; a frozen range is retried shortly. */
  private refused(client: Client, call: Call, refusal: { code: "wrongRange"; movedTo?: string } | { code: "rangeFrozen" }): void {
    if (refusal.code === "rangeFrozen") {
      this.stats.rangeFrozen++;
      call.resendAt = this.world.now + 2 + this.rng.int(4);
      return;
    }
    this.stats.wrongRange++;
    if (refusal.movedTo !== undefined && this.world.groups.has(refusal.movedTo)) {
      this.stats.movedToHints++;
      call.group = refusal.movedTo;
    } else {
      client.table = this.world.table.value;
      call.group = lookupKey(client.table, call.key).group;
    }
    this.world.log(`client ${client.clientId} ${call.f} ${call.key}: ${refusal.code}, now to ${call.group}`);
    call.resendAt = this.world.now + 1;
  }

  private timeout(client: Client, call: Call): void {
    call.attempts++;
    call.resendAt = null;
    if (call.attempts > client.retriesMax) {
      // A write no replica ever accepted cannot take effect: it failed. Not so a cas, whose `fail` means "compared and differed".
      const neverAccepted = !call.accepted && (call.f === "write" || call.f === "delete");
      this.complete(client, neverAccepted ? "fail" : "info", null);
      return;
    }
    if (this.rng.chance(0.5)) {
      client.table = this.world.table.value;
      call.group = lookupKey(client.table, call.key).group;
    }
    this.submit(client, call, true);
  }

  private complete(client: Client, type: "ok" | "fail" | "info", value: Value): void {
    const call = client.call!;
    this.recorder.complete(client.process, type, value, this.world.steps);
    this.world.log(`client ${client.clientId} ${call.f} ${call.key} ${call.value ?? ""} -> ${type}${call.f === "read" && type === "ok" ? ` ${JSON.stringify(value)}` : ""}`);
    client.call = null;
    client.nextStartTick = this.world.now + this.rng.int(this.settings.thinkTicksMax + 1);
    if (type === "info") client.process = this.processNext++;
  }
}

/** The KV command of a call. A cas compares versions: with unique values, version equality is value equality. */
function kvOperation(f: OperationFunction, key: string, value: Value, knownVersion: number, paddingBytes: number): KvOperation {
  if (f === "delete") return { type: "delete", key };
  const bytes = encodeValue(value!, paddingBytes);
  if (f === "cas") return { type: "put", key, value: bytes, condition: { ifVersion: knownVersion } };
  return { type: "put", key, value: bytes };
}
