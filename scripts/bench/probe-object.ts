/**
 * A bench-only Durable Object, bundled into the Miniflare runtime only (never into the Worker that
 * wrangler builds or deploys): it times sequential round trips to a peer object, the "DO round
 * trip" the latency bar is stated in. Two kinds: an empty fetch, and one where both sides write a
 * row first (the smallest replicated write: a flush, a hop, a flush, and the reply). Written
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

  /** GET /pong[?write=1] answers at once (after writing a row); GET /ping?peer=&count=&write= times round trips. */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const write = url.searchParams.get("write") === "1";
    if (url.pathname === "/pong") {
      if (write) this.writeRow();
      return new Response("pong");
    }
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

  private writeRow(): void {
    const sql = this.state.storage.sql;
    if (!this.ready) {
      sql.exec("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at INTEGER)");
      this.ready = true;
    }
    sql.exec("INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", Date.now());
  }
}
