/**
 * The connections between two Deno nodes, carrying every group's traffic: one WebSocket per
 * direction, each dialed by the receiving node, so a node writes only on sockets it accepted.
 * (Deno's WebSocket client leaves Nagle's algorithm on, and two small frames written in a row on
 * a dialed socket waited about 40 ms for the peer's delayed ACK; an accepted socket does not wait.
 * Measured 2026-11-30: 44 ms against 0.2 ms.) Raft batches for a node are queued and leave
 * together in one binary frame (multiraft/node-frame.ts) when the current task ends, so the frames per tick between two nodes do not grow with the number of groups, and a
 * quiesced group adds nothing. Inside a frame the heartbeats of all groups are one coalesced
 * record (multiraft/coalesced-heartbeats.ts), so the records per tick do not grow either. Router requests to replicas on the other node (JSON) travel as
 * text frames and are matched to their answers by id; the requests and answers for a node queued
 * in one task leave together too, as one text frame holding a JSON array (a leader's pass answers
 * many forwarded writes at once).
 *
 * Peers authenticate with the cluster secret: the dialer presents it on the upgrade request and
 * the acceptor refuses (401) a missing or wrong one before any frame is read, so a process
 * without it can neither join nor inject a message. The secret travels in clear: run the nodes on
 * a private network, or behind TLS.
 * The dialer also names its peer protocol version, and a node of another is refused with 412
 * (peer-handshake.ts).
 */
import { logEvent } from "../../router/log.ts";
import { parseJson } from "../../kv/binary.ts";
import { isCoalescible } from "../../multiraft/coalesced-heartbeats.ts";
import { decodeNodeFrame, encodeNodeFrame, nodeFrameBatchesMax } from "../../multiraft/node-frame.ts";
import type { MessageBatch } from "../../multiraft/wire.ts";
import { nodeHeader, peerProtocol, peerProtocolHeader, refusalLogEveryMs, secretMatches } from "./peer-handshake.ts";
import type { ReplicaAnswer } from "../common/replica-requests.ts";

/** Where a node listens. */
export interface NodeAddress {
  id: number;
  host: string;
  port: number;
}

/** A router request for a replica on another node. */
export interface PeerRequest {
  group: string;
  replica: number;
  path: string;
  body: unknown;
}

/** What the transport needs from its node. */
export interface NodeTransportOptions {
  self: number;
  /** Every other node of the cluster. */
  peers: NodeAddress[];
  secret: string;
  /** Dial peers over TLS (wss://): every node serves TLS (--tls-cert, --tls-key) and trusts the cluster's CA (DENO_CERT). */
  tls?: boolean;
  /** Raft batches arrived from node `from`. */
  onBatches(from: number, batches: MessageBatch[]): void;
  /** A router on node `from` calls a replica here. */
  onRequest(request: PeerRequest): Promise<ReplicaAnswer>;
  /** Node `peer` dialled this node and the socket to write to it is open (it started, or its connection came back). */
  onConnected?(peer: number): void;
  /** Receiving a Raft frame (decoded and handed to onBatches), or a flush to a peer, that began at `startedMs` ended (statistics). */
  timed?(stage: "raftFrameIn" | "frameOut", startedMs: number): void;
  /** A call to a peer that gets no answer in this long fails (default 15 s). */
  callTimeoutMs?: number;
}

/** Traffic since start, per node (what the benchmark and /internal status report). */
export interface TransportCounters {
  framesSent: number;
  messagesSent: number;
  framesReceived: number;
  messagesReceived: number;
  /** Batches dropped because the peer was not connected (Raft resends what matters). */
  batchesDropped: number;
  /** Router requests and answers sent, and the text frames that carried them (those queued in one task share one). */
  callsSent: number;
  callFramesSent: number;
  /** Upgrade requests refused: a missing or wrong secret, an unknown node id, or another peer protocol. */
  refused: number;
  /** Upgrade requests with the secret refused because the dialer speaks another peer protocol. */
  refusedProtocol: number;
  /** What left for each peer node, by its id (how heartbeat traffic per node pair is measured). */
  peers: Record<number, PeerCounters>;
}

/** Raft traffic sent to one peer node since start. */
export interface PeerCounters {
  framesSent: number;
  messagesSent: number;
  /** Of messagesSent, heartbeats and heartbeat responses. */
  heartbeatsSent: number;
  /** Coalesced heartbeat records sent (at most one per frame; each carries many groups' heartbeats). */
  heartbeatRecordsSent: number;
  /** Records on the wire: each message sent in a batch, plus each coalesced heartbeat record. */
  recordsSent: number;
  bytesSent: number;
}

/** The path peers connect to. */
export const peerPath = "/internal/peer";
/** A request to a peer's replica that gets no answer in this long is failed (the router retries). */
const callTimeoutMsDefault = 15_000;
/** How often calls past their timeout are failed (one timer for all, not one per call). */
const callSweepMsMax = 1_000;
/** Reconnect backoff bounds. */
const reconnectFirstMs = 50;
const reconnectMaxMs = 1_000;
/** Calls and answers share a text frame up to this many characters (a large value travels in base64 JSON, so a frame of many would be huge). */
const callFrameCharsMax = 1024 * 1024;
/** Bytes buffered on a socket past which Raft frames are dropped instead of queued. */
const bufferedBytesMax = 64 * 1024 * 1024;

interface Link {
  readonly peer: NodeAddress;
  /** The socket the peer dialed and this node accepted: everything for the peer is written here. */
  outbound: WebSocket | undefined;
  /** The socket this node dialed: the peer writes its traffic here; this node only reads it. */
  inbound: WebSocket | undefined;
  queue: MessageBatch[];
  /** Router requests and answers for the peer, each already JSON: they leave with the queue. */
  texts: string[];
  flushScheduled: boolean;
  /** Router calls waiting for their answer, with the socket each was sent on. */
  readonly pending: Map<number, { resolve(answer: ReplicaAnswer): void; reject(error: Error): void; deadlineMs: number; socket: WebSocket }>;
  reconnectMs: number;
  /** When a refusal of this peer's protocol was last logged. */
  refusalLoggedMs: number;
}

/** The connections of one node to all others. */
export class NodeTransport {
  readonly counters: TransportCounters = { framesSent: 0, messagesSent: 0, framesReceived: 0, messagesReceived: 0, batchesDropped: 0, callsSent: 0, callFramesSent: 0, refused: 0, refusedProtocol: 0, peers: {} };
  private readonly options: NodeTransportOptions;
  private readonly links = new Map<number, Link>();
  private nextRequestId = 1;
  private stopped = false;
  private sweep: ReturnType<typeof setInterval> | undefined;
  private readonly callTimeoutMs: number;

  constructor(options: NodeTransportOptions) {
    this.options = options;
    this.callTimeoutMs = options.callTimeoutMs ?? callTimeoutMsDefault;
    for (const peer of options.peers) {
      this.links.set(peer.id, { peer, outbound: undefined, inbound: undefined, queue: [], texts: [], flushScheduled: false, pending: new Map(), reconnectMs: reconnectFirstMs, refusalLoggedMs: Number.NEGATIVE_INFINITY });
      this.counters.peers[peer.id] = { framesSent: 0, messagesSent: 0, heartbeatsSent: 0, heartbeatRecordsSent: 0, recordsSent: 0, bytesSent: 0 };
    }
  }

  /** Dials every peer: the connection its traffic for this node arrives on. */
  start(): void {
    if (this.sweep !== undefined) return;
    for (const link of this.links.values()) this.dial(link);
    this.sweep = setInterval(() => this.failLateCalls(Date.now()), Math.min(callSweepMsMax, this.callTimeoutMs / 4));
  }

  /** Fails the calls that have waited past their timeout (the router then tries another replica). */
  private failLateCalls(nowMs: number): void {
    for (const link of this.links.values()) {
      for (const [id, waiting] of link.pending) {
        if (waiting.deadlineMs > nowMs) continue;
        link.pending.delete(id);
        waiting.reject(new Error(`node ${link.peer.id} did not answer in time`));
      }
    }
  }

  /** Whether `node` can be called now (request): the connection this node dialed and the one it answers on are both open. */
  connected(node: number): boolean {
    const link = this.links.get(node);
    return link?.outbound?.readyState === WebSocket.OPEN && link.inbound?.readyState === WebSocket.OPEN;
  }

  /** Queues a batch for `node`; everything queued this turn leaves in one frame. */
  send(node: number, batch: MessageBatch): void {
    const link = this.links.get(node);
    if (link === undefined) return;
    link.queue.push(batch);
    this.scheduleFlush(link);
  }

  private scheduleFlush(link: Link): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    // After the current task: every replica that runs in it (a tick of all groups, a frame
    // stepped into all groups) adds its batch first, and the node sends them as one frame.
    queueMicrotask(() => this.flush(link));
  }

  /** Queues a router request or answer (JSON text) for the peer; those of one task leave as one text frame. */
  private sendText(link: Link, text: string): void {
    link.texts.push(text);
    this.scheduleFlush(link);
  }

  /** Calls a replica on `node`; rejects when the node is not connected both ways or does not answer in time. */
  request(node: number, request: PeerRequest): Promise<ReplicaAnswer> {
    const link = this.links.get(node);
    const socket = link?.outbound;
    // The answer comes back on the other socket: without both open, the call could only time out.
    if (link === undefined || socket === undefined || !this.connected(node)) return Promise.reject(new Error(`node ${node} is not connected both ways`));
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      link.pending.set(id, { resolve, reject, deadlineMs: Date.now() + this.callTimeoutMs, socket });
      this.sendText(link, JSON.stringify({ type: "request", id, ...request }));
    });
  }

  /** Answers an upgrade request from a peer: a WebSocket when it proves the secret and speaks this node's protocol; 401 or 412 otherwise. */
  accept(request: Request): Response {
    const from = Number(request.headers.get(nodeHeader));
    const link = this.links.get(from);
    if (!secretMatches(request.headers.get("authorization"), this.options.secret) || link === undefined) {
      this.counters.refused++;
      return new Response("a peer must present the cluster secret", { status: 401 });
    }
    const theirs = request.headers.get(peerProtocolHeader);
    if (theirs !== peerProtocol) {
      this.counters.refused++;
      this.counters.refusedProtocol++;
      const detail = `node ${from} speaks peer protocol ${theirs ?? "(none named)"} and node ${this.options.self} speaks ${peerProtocol}: run one edgeraft version on every node`;
      const nowMs = Date.now();
      if (nowMs - link.refusalLoggedMs >= refusalLogEveryMs) {
        link.refusalLoggedMs = nowMs;
        logEvent("warn", "peerRefused", { code: "peerProtocolMismatch", peer: from, theirs, ours: peerProtocol });
      }
      return Response.json({ code: "peerProtocolMismatch", detail }, { status: 412, headers: { [peerProtocolHeader]: peerProtocol } });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const { socket, response } = Deno.upgradeWebSocket(request);
    this.attach(link, socket, "outbound");
    socket.addEventListener("open", () => this.options.onConnected?.(link.peer.id));
    return response;
  }

  /** Closes every connection and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    for (const link of this.links.values()) {
      link.outbound?.close();
      link.inbound?.close();
    }
  }

  private dial(link: Link): void {
    if (this.stopped) return;
    const { host, port } = link.peer;
    const headers = { authorization: `Bearer ${this.options.secret}`, [nodeHeader]: String(this.options.self), [peerProtocolHeader]: peerProtocol };
    // Deno's WebSocket takes request headers as a second-argument option.
    const scheme = this.options.tls === true ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${host}:${port}${peerPath}`, { headers } as unknown as string[]);
    this.attach(link, socket, "inbound");
    socket.addEventListener("open", () => (link.reconnectMs = reconnectFirstMs));
    socket.addEventListener("close", () => {
      if (this.stopped) return;
      const delay = link.reconnectMs;
      link.reconnectMs = Math.min(reconnectMaxMs, link.reconnectMs * 2);
      setTimeout(() => this.dial(link), delay);
    });
  }

  private attach(link: Link, socket: WebSocket, role: "outbound" | "inbound"): void {
    const previous = link[role];
    link[role] = socket;
    if (previous !== undefined && previous !== socket) previous.close();
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.receive(link, event.data));
    socket.addEventListener("close", () => {
      // Calls sent on this socket get no answer now (also when a newer socket replaced it); nor
      // do any calls when the current socket their answers arrive on closes.
      const returnPathLost = role === "inbound" && link.inbound === socket;
      for (const [id, waiting] of link.pending) {
        if (waiting.socket !== socket && !returnPathLost) continue;
        waiting.reject(new Error(`connection to node ${link.peer.id} closed`));
        link.pending.delete(id);
      }
      if (link[role] === socket) link[role] = undefined;
    });
    socket.addEventListener("error", () => {}); // a close event follows; reconnecting is handled there
  }

  private flush(link: Link): void {
    const startedMs = performance.now();
    try {
      this.flushNow(link);
    } finally {
      this.options.timed?.("frameOut", startedMs);
    }
  }

  private flushNow(link: Link): void {
    link.flushScheduled = false;
    const batches = link.queue;
    link.queue = [];
    const texts = link.texts;
    link.texts = [];
    const socket = link.outbound;
    // Requests whose socket closed meanwhile are failed by its close event; answers are lost, as on a closed socket.
    if (texts.length > 0 && socket?.readyState === WebSocket.OPEN) this.sendTexts(socket, texts);
    if (batches.length === 0) return;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN || socket.bufferedAmount > bufferedBytesMax) {
      this.counters.batchesDropped += batches.length;
      return;
    }
    const peer = this.counters.peers[link.peer.id]!;
    for (let start = 0; start < batches.length; start += nodeFrameBatchesMax) {
      const chunk = batches.slice(start, start + nodeFrameBatchesMax);
      const frame = encodeNodeFrame(chunk);
      socket.send(frame);
      this.counters.framesSent++;
      peer.framesSent++;
      peer.bytesSent += frame.length;
      let coalesced = 0;
      for (const batch of chunk) {
        this.counters.messagesSent += batch.messages.length;
        peer.messagesSent += batch.messages.length;
        for (const message of batch.messages) {
          if (message.type === "heartbeat" || message.type === "heartbeatResp") peer.heartbeatsSent++;
          if (isCoalescible(batch, message)) coalesced++;
          else peer.recordsSent++;
        }
      }
      if (coalesced > 0) {
        peer.heartbeatRecordsSent++;
        peer.recordsSent++;
      }
    }
  }

  /** Sends queued calls and answers as text frames of at most callFrameCharsMax characters each (or one call). */
  private sendTexts(socket: WebSocket, texts: string[]): void {
    for (let start = 0; start < texts.length;) {
      let end = start + 1;
      for (let chars = texts[start]!.length; end < texts.length && chars + texts[end]!.length <= callFrameCharsMax; end++) chars += texts[end]!.length;
      socket.send(end - start === 1 ? texts[start]! : `[${texts.slice(start, end).join(",")}]`);
      this.counters.callsSent += end - start;
      this.counters.callFramesSent++;
      start = end;
    }
  }

  private receive(link: Link, data: unknown): void {
    if (data instanceof ArrayBuffer) {
      const startedMs = performance.now();
      const decoded = decodeNodeFrame(new Uint8Array(data));
      if (!decoded.ok) return; // a peer of another version, or a bug: Raft treats it as loss
      this.counters.framesReceived++;
      for (const batch of decoded.batches) this.counters.messagesReceived += batch.messages.length;
      try {
        this.options.onBatches(link.peer.id, decoded.batches);
      } finally {
        this.options.timed?.("raftFrameIn", startedMs);
      }
      return;
    }
    if (typeof data !== "string") return;
    const parsed = parseJson(data);
    if (Array.isArray(parsed)) for (const message of parsed) this.receiveText(link, message);
    else this.receiveText(link, parsed);
  }

  private receiveText(link: Link, parsed: unknown): void {
    const message = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    if (message?.type === "response" && typeof message.id === "number") {
      const waiting = link.pending.get(message.id);
      if (waiting === undefined) return;
      link.pending.delete(message.id);
      waiting.resolve({ status: Number(message.status), body: message.body });
    } else if (message?.type === "request" && typeof message.id === "number") {
      void this.answer(link, message.id, message);
    }
  }

  private async answer(link: Link, id: number, message: Record<string, unknown>): Promise<void> {
    let answer: ReplicaAnswer;
    if (typeof message.group !== "string" || typeof message.replica !== "number" || typeof message.path !== "string") {
      answer = { status: 400, body: { kind: "badRequest" } };
    } else {
      answer = await this.options.onRequest({ group: message.group, replica: message.replica, path: message.path, body: message.body }).catch(
        (error: unknown) => ({ status: 500, body: { kind: "unknown", reason: String(error) } }),
      );
    }
    this.sendText(link, JSON.stringify({ type: "response", id, ...answer }));
  }
}
