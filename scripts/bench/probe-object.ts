/**
 * A bench-only Durable Object, bundled into the Miniflare runtime only (never into the Worker that
 * wrangler builds or deploys): it times sequential round trips to a peer object ("DO round
 * trips"). Two kinds: an empty fetch, and one where both sides write a row first (a flush, a hop,
 * a flush, and the reply). It also times the smallest write step with and without replication and
 * no engine at all (/step): their difference is the floor the latency bar is stated against. Written
 * against minimal local types so it typechecks with the Node scripts; workerd accepts a plain class.
 */

/** The part of a Durable Object namespace the probe uses. */
interface ProbeNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(url: string): Promise<Response> };
}

/** The part of the object state the probe uses. */
interface ProbeState {
  storage: { sql: { exec(query: string, ...bindings: unknown[]): unknown } };
}

/** Most round trips one /ping may time. */
const probeRoundsMax = 10_000;

/** The probe object (binding PROBE). */
export class ProbeObject {
  private readonly state: ProbeState;
  private readonly namespace: ProbeNamespace;
  private ready = false;

  constructor(state: ProbeState, env: { PROBE: ProbeNamespace }) {
    this.state = state;
    this.namespace = env.PROBE;
  }

  /**
   * GET /pong[?write=1] answers at once (after writing a row); GET /ping?peer=&count=&write= times
   * round trips; GET /step?count=&peers=a,b times write steps (see step()).
   */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const write = url.searchParams.get("write") === "1";
    if (url.pathname === "/pong") {
      if (write) this.writeRow();
      return new Response("pong");
    }
    if (url.pathname === "/step") return this.step(url);
    const count = Number(url.searchParams.get("count"));
    const peer = url.searchParams.get("peer") ?? "";
    if (url.pathname !== "/ping" || !Number.isSafeInteger(count) || count < 1 || count > probeRoundsMax || peer === "") {
      return new Response("GET /ping?peer=<name>&count=1..10000[&write=1]", { status: 400 });
    }
    const stub = this.namespace.get(this.namespace.idFromName(peer));
    await (await stub.fetch("https://probe/pong")).text(); // wake the peer first
    const startMs = performance.now();
    for (let round = 0; round < count; round++) {
      if (write) this.writeRow();
      await (await stub.fetch(`https://probe/pong${write ? "?write=1" : ""}`)).text();
    }
    return Response.json({ count, elapsedMs: performance.now() - startMs });
  }

  /**
   * Times `count` write steps. With one peer (the unreplicated shape): write a row, then send the
   * peer an empty request, which the output gate holds until the row is durable. With more (the
   * shape of a replicated write with no engine, wire or state machine): write a row, send every
   * peer a request on which it writes a row, wait for the first answer (a majority of three is
   * this object and one peer), write a second row (the commit; the next step's requests wait for
   * its flush). The other answers still arrive and take their turn on the thread, as a second
   * follower's do.
   */
  private async step(url: URL): Promise<Response> {
    const count = Number(url.searchParams.get("count"));
    const names = (url.searchParams.get("peers") ?? "").split(",").filter((name) => name !== "");
    if (!Number.isSafeInteger(count) || count < 1 || count > probeRoundsMax || names.length === 0) {
      return new Response("GET /step?count=1..10000&peers=a[,b...]", { status: 400 });
    }
    const peers = names.map((name) => this.namespace.get(this.namespace.idFromName(name)));
    await Promise.all(peers.map(async (peer) => (await peer.fetch("https://probe/pong")).text())); // wake them
    const stragglers: Promise<unknown>[] = [];
    const startMs = performance.now();
    for (let round = 0; round < count; round++) {
      this.writeRow();
      if (peers.length === 1) {
        await (await peers[0]!.fetch("https://probe/pong")).text();
        continue;
      }
      const answers = peers.map(async (peer) => (await peer.fetch("https://probe/pong?write=1")).text());
      await Promise.race(answers);
      stragglers.push(...answers);
      this.writeRow();
    }
    const elapsedMs = performance.now() - startMs;
    await Promise.all(stragglers);
    return Response.json({ count, elapsedMs });
  }

  private writeRow(): void {
    const sql = this.state.storage.sql;
    if (!this.ready) {
      sql.exec("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at INTEGER)");
      this.ready = true;
    }
    sql.exec("INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", Date.now());
  }
}
