/**
 * Simulated clients: concurrent processes doing get/put/delete/cas on a few keys through the KV
 * state machine, recorded in Jepsen's event form for the linearizability checker. Writes carry a
 * client session (clientId, seq) and are retried with the same seq on timeout, possibly at another
 * replica; reads are ReadIndex (or lease) reads answered once the replica applied the read index.
 * After too many retries a client gives up and records the outcome as unknown (`info`).
 */
import { assert } from "../../src/shared/assert.ts";
import type { Rng } from "../../src/shared/rng.ts";
import { noNode, type Index, type NodeId } from "../../src/raft/types.ts";
import { encodeCommand, type ApplyResult, type KvRecord, type Operation as KvOperation } from "../../src/kv/index.ts";
import { HistoryRecorder, type OperationFunction, type Value } from "../../src/checker/index.ts";
import { tickMs, type WorkloadSettings } from "./options.ts";
import type { World } from "./world.ts";

/** A client's call in progress. */
interface Call {
  f: OperationFunction;
  key: string;
  /** Write and cas: the new value; null otherwise. */
  value: Value;
  /** Writes: the session seq and the encoded command, proposed again unchanged on every retry. */
  seq: number;
  command: Uint8Array | null;
  /** Reads: the context of the current attempt. */
  context: string;
  lease: boolean;
  target: NodeId;
  attempts: number;
  /** Tick at which the current attempt times out. */
  deadline: number;
  /** Tick at which a refused proposal is sent again, or null. */
  resendAt: number | null;
  /** Writes: some replica accepted a proposal of the command (so it may take effect). */
  accepted: boolean;
}

/** One client process. */
interface Client {
  clientId: string;
  /** Process id in the history; a client that gave up continues as a new process (Jepsen convention). */
  process: number;
  seq: number;
  call: Call | null;
  nextStartTick: number;
  leaderGuess: NodeId;
  /**
   * A client connected to one replica (noNode: none) sends there nearly always, like a client of its
   * nearest node; followers forward to the leader. Clients at different replicas are what expose a
   * deposed leader serving stale reads while a new leader already commits.
   */
  home: NodeId;
  /** Last value and version this client saw per key (from reads and its own writes). */
  known: Map<string, { value: Value; version: number }>;
  retriesMax: number;
  /** Index of the entry that applied the last completed write. */
  lastWriteIndex: Index;
}

/** A thrown error that means the simulator itself (or the KV state machine) misbehaved. */
export class WorkloadError extends Error {
  override name = "WorkloadError";
}

/** All client processes of one run and the history they record. */
export class Workload {
  readonly recorder = new HistoryRecorder();
  /** No new calls start while paused (quiet periods, liveness phase); calls in progress continue. */
  paused = false;
  private readonly clients: Client[] = [];
  private readonly world: World;
  private readonly rng: Rng;
  private readonly settings: WorkloadSettings;
  private readonly keys: string[];
  /** The next unused process id of the history. */
  private processNext = 0;
  private readCounter = 0;

  constructor(world: World, rng: Rng, settings: WorkloadSettings) {
    this.world = world;
    this.rng = rng;
    this.settings = settings;
    this.keys = Array.from({ length: settings.keysCount }, (_, index) => `k${index}`);
    for (let index = 0; index < settings.clientsCount; index++) {
      const client = this.addClient(`c${index}`, settings.retriesMax);
      if (rng.chance(settings.homeProbability)) client.home = 1 + rng.int(world.options.replicaCount);
    }
  }

  /** Advances every client by one tick: time out, resend, or start a new call. */
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

  /** Whether any call is in progress. */
  get busy(): boolean {
    return this.clients.some((client) => client.call !== null);
  }

  /** Starts a write by a client that never gives up (the liveness probe), connected to `home`; returns the client id. */
  startProbe(home: NodeId): string {
    const client = this.addClient(`probe${this.clients.length}`, Infinity);
    client.home = home;
    this.startCall(client, "write", this.keys[0]!);
    return client.clientId;
  }

  /** The index at which the probe `clientId` was applied, once its write completed. */
  probeIndex(clientId: string): Index | null {
    const client = this.clients.find((candidate) => candidate.clientId === clientId);
    assert(client !== undefined, `no probe ${clientId}`);
    return client.call === null ? client.lastWriteIndex : null;
  }

  private addClient(clientId: string, retriesMax: number): Client {
    const client: Client = {
      clientId,
      process: this.processNext++,
      seq: 0,
      call: null,
      nextStartTick: 0,
      leaderGuess: noNode,
      home: noNode,
      known: new Map(),
      retriesMax,
      lastWriteIndex: 0,
    };
    this.clients.push(client);
    return client;
  }

  private start(client: Client): void {
    const { readWeight, writeWeight, deleteWeight, casWeight } = this.settings;
    let roll = this.rng.int(readWeight + writeWeight + deleteWeight + casWeight);
    const key = this.keys[this.rng.int(this.keys.length)]!;
    if ((roll -= readWeight) < 0) this.startCall(client, "read", key);
    else if ((roll -= writeWeight) < 0) this.startCall(client, "write", key);
    else if ((roll -= deleteWeight) < 0) this.startCall(client, "delete", key);
    else this.startCall(client, "cas", key);
  }

  private startCall(client: Client, f: OperationFunction, key: string): void {
    const time = this.world.steps;
    const call: Call = { f, key, value: null, seq: 0, command: null, context: "", lease: false, target: noNode, attempts: 0, deadline: 0, resendAt: null, accepted: false };
    if (f === "read") {
      call.lease = this.rng.chance(this.settings.leaseReadProbability);
      this.recorder.invoke(client.process, "read", key, null, time);
    } else {
      call.seq = ++client.seq;
      const value = f === "delete" ? null : `${client.clientId}.${call.seq}`;
      call.value = value;
      const known = client.known.get(key) ?? { value: null, version: 0 };
      call.command = encodeCommand({ clientId: client.clientId, seq: call.seq, timeMs: this.world.now * tickMs, operation: this.kvOperation(f, key, value, known.version) });
      this.recorder.invoke(client.process, f, key, f === "cas" ? [known.value, value] : value, time);
    }
    client.call = call;
    this.world.stats.operations++;
    call.target = this.chooseTarget(client);
    this.submit(client, call, true);
  }

  /** The KV command for a call. A cas compares versions: with unique values, version equality is value equality. */
  private kvOperation(f: OperationFunction, key: string, value: Value, knownVersion: number): KvOperation {
    if (f === "delete") return { type: "delete", key };
    const bytes = encodeValue(value!, this.settings.valuePaddingBytes);
    if (f === "cas") return { type: "put", key, value: bytes, condition: { ifVersion: knownVersion } };
    return { type: "put", key, value: bytes };
  }

  /**
   * Sends `call` to its target (nothing happens if the target is down). A new attempt gets a new
   * deadline; resending a refused proposal within an attempt keeps the attempt's deadline.
   */
  private submit(client: Client, call: Call, newAttempt: boolean): void {
    const target = this.world.replicas.get(call.target);
    if (newAttempt) call.deadline = this.world.now + this.settings.requestTimeoutTicks;
    if (target === undefined || !target.alive) return;
    this.world.touch(target);
    if (call.f === "read") {
      call.context = `${call.target}:${++this.readCounter}`;
      const context = call.context;
      target.awaitRead(context, call.key, (record) => {
        if (client.call === call && call.context === context) this.readDone(client, call, record);
      });
      target.readIndex(context, call.lease);
      return;
    }
    target.awaitWrite(client.clientId, call.seq, (result, index) => {
      if (client.call === call) this.writeDone(client, call, result, index);
    });
    const proposal = target.propose(call.command!);
    if (proposal.ok) {
      call.accepted = true;
      return;
    }
    target.forget(client.clientId, call.context);
    if (proposal.leader !== noNode) client.leaderGuess = proposal.leader;
    call.target = this.chooseTarget(client);
    call.resendAt = this.world.now + 1 + this.rng.int(3);
  }

  private timeout(client: Client, call: Call): void {
    const target = this.world.replicas.get(call.target);
    if (target !== undefined && target.alive) {
      target.forget(client.clientId, call.context);
      client.leaderGuess = target.status().leader; // the redirect hint a real replica would answer with
    } else {
      client.leaderGuess = noNode;
    }
    call.attempts++;
    call.resendAt = null;
    if (call.attempts > client.retriesMax) {
      // A write no replica ever accepted cannot take effect: it failed. Not so a cas, whose `fail`
      // the checker reads as "compared and differed".
      const neverAccepted = !call.accepted && (call.f === "write" || call.f === "delete");
      this.complete(client, neverAccepted ? "fail" : "info", null);
      return;
    }
    call.target = this.chooseTarget(client);
    this.world.log(`client ${client.clientId} retries ${call.f} ${call.key} at ${call.target} (attempt ${call.attempts + 1})`);
    this.submit(client, call, true);
  }

  private chooseTarget(client: Client): NodeId {
    if (client.home !== noNode && this.rng.chance(0.9)) return client.home;
    if (client.leaderGuess !== noNode && this.rng.chance(0.8)) return client.leaderGuess;
    const ids = this.world.ids();
    return ids[this.rng.int(ids.length)]!;
  }

  private readDone(client: Client, call: Call, record: KvRecord | undefined): void {
    const value = record === undefined ? null : decodeValue(record.value);
    client.known.set(call.key, { value, version: record?.version ?? 0 });
    this.complete(client, "ok", value);
  }

  private writeDone(client: Client, call: Call, result: ApplyResult, index: Index): void {
    client.lastWriteIndex = index;
    if (result.ok && (result.type === "put" || result.type === "delete")) {
      assert(call.f !== "cas" || result.type === "put", "a cas is a conditional put");
      client.known.set(call.key, { value: call.value, version: result.type === "put" ? result.version : 0 });
      this.complete(client, "ok", null);
    } else if (!result.ok && result.code === "conditionFailed" && call.f === "cas") {
      client.known.delete(call.key);
      this.complete(client, "fail", null);
    } else {
      throw new WorkloadError(`client ${client.clientId} ${call.f} seq ${call.seq} got an unexpected result ${JSON.stringify(result)}`);
    }
  }

  private complete(client: Client, type: "ok" | "fail" | "info", value: Value): void {
    const call = client.call;
    assert(call !== null, "a completion has a call");
    this.recorder.complete(client.process, type, value, this.world.steps);
    const stats = this.world.stats;
    if (type === "ok") stats.operationsOk++;
    else if (type === "fail") stats.operationsFailed++;
    else stats.operationsUnknown++;
    this.world.log(`client ${client.clientId} ${call.f} ${call.key} ${call.value ?? ""} -> ${type}${call.f === "read" && type === "ok" ? ` ${JSON.stringify(value)}` : ""}`);
    client.call = null;
    client.nextStartTick = this.world.now + this.rng.int(this.settings.thinkTicksMax + 1);
    if (type === "info") client.process = this.processNext++;
  }
}

/** A value's bytes: its text, a zero byte, then `paddingBytes` of filler (so some seeds have big snapshots). */
export function encodeValue(value: string, paddingBytes: number): Uint8Array {
  const text = new TextEncoder().encode(value);
  const bytes = new Uint8Array(text.length + 1 + paddingBytes);
  bytes.set(text);
  for (let index = 0; index < paddingBytes; index++) bytes[text.length + 1 + index] = (index * 31 + text.length) & 0xff;
  return bytes;
}

/** The value text of bytes written by encodeValue. */
export function decodeValue(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}
