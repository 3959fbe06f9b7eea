/**
 * The part of the Deno namespace this host uses, declared for tsc (the project's type checker runs
 * on Node types); at run time the real Deno provides it. Kept to what the code calls, with Deno's
 * own signatures narrowed to the options used.
 */
declare namespace Deno {
  /** The command-line arguments after the script. */
  const args: string[];
  /** This process's id. */
  const pid: number;
  /** Environment variables. */
  const env: { get(name: string): string | undefined };
  /** Exits the process. */
  function exit(code?: number): never;
  /** Runs `handler` when the process receives `signal`. */
  function addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  /** A listening HTTP server. */
  interface HttpServer {
    readonly addr: { hostname: string; port: number };
    shutdown(): Promise<void>;
  }
  /** Serves HTTP on `hostname:port` with `handler` (HTTPS when given a PEM certificate chain and key). */
  function serve(
    options: { hostname: string; port: number; onListen?: (address: { hostname: string; port: number }) => void; cert?: string; key?: string },
    handler: (request: Request) => Response | Promise<Response>,
  ): HttpServer;
  /** Upgrades a request to a WebSocket; return `response` from the handler. */
  function upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}
