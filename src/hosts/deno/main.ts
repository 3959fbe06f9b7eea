/**
 * Entry of a Deno node: `deno task node --id 1 --data DIR --nodes 1=127.0.0.1:8790,2=...,3=...`.
 * The cluster secret comes from EDGERAFT_CLUSTER_SECRET and the admin token from ADMIN_TOKEN
 * (environment, never the command line, which other users of the machine can read); LOG_LEVEL
 * sets the level of the structured logs as on the Worker (default warn). Prints one
 * JSON line when it listens; SIGINT or SIGTERM stop it cleanly (the database is closed; a SIGKILL
 * loses nothing acknowledged either, since every answer and vote waits for its turn's sync).
 */
import { readFileSync } from "node:fs";
import { ClusterNode } from "./cluster-node.ts";
import { DataDirectoryRefused } from "./node-identity.ts";
import { parseNodeArguments } from "./arguments.ts";
import { setLogLevel } from "../../router/log.ts";

setLogLevel(Deno.env.get("LOG_LEVEL"));

const parsed = parseNodeArguments(Deno.args, (name) => Deno.env.get(name));
if (!parsed.ok) {
  console.error(`edgeraft node: ${parsed.error}`);
  Deno.exit(2);
}
const options = parsed.options;
/** A PEM file of --tls-cert or --tls-key, read before anything opens (a clear error, not a stack trace). */
const pem = (flag: string, file: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    console.error(`edgeraft node: cannot read ${flag} ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return Deno.exit(2);
  }
};
const tls = options.tls === undefined ? {} : { cert: pem("--tls-cert", options.tls.certFile), key: pem("--tls-key", options.tls.keyFile) };
/** The node, or one line and exit 2 when its data directory is not this node's to open (node-identity.ts); other errors keep their stack. */
const node = (() => {
  try {
    return new ClusterNode(options);
  } catch (error) {
    if (!(error instanceof DataDirectoryRefused)) throw error;
    console.error(`edgeraft node: ${error.message}`);
    return Deno.exit(2);
  }
})();
const self = options.nodes.find((address) => address.id === options.id)!;
const server = Deno.serve({ hostname: self.host, port: self.port, onListen: () => {}, ...tls }, (request) => node.fetch(request));
node.start();
console.log(JSON.stringify({ event: "listening", node: options.id, url: `${options.tls === undefined ? "http" : "https"}://${self.host}:${self.port}`, pid: Deno.pid }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  node.stop();
  await server.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", () => void stop());
Deno.addSignalListener("SIGTERM", () => void stop());
