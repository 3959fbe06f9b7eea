/**
 * The wrangler dev a chaos scenario runs against: started with FAULTS=on on a fresh state
 * directory, killed (SIGKILL to its whole process group) and started again on the same state and
 * port by the nemesis, and always stopped when the campaign ends, also on errors and Ctrl-C.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startWrangler, type RunningWrangler } from "../../test/e2e/wrangler.ts";

/** Process groups of every wrangler dev still running, killed synchronously when the process exits. */
const livePids = new Set<number>();
/** State directories still in use, removed when the process exits early. */
const liveDirectories = new Set<string>();
let cleanupInstalled = false;

/** Makes sure no wrangler dev (nor its state) outlives this process: on exit, Ctrl-C, SIGTERM and uncaught errors. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = (): void => {
    for (const pid of livePids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    livePids.clear();
    for (const directory of liveDirectories) rmSync(directory, { recursive: true, force: true });
    liveDirectories.clear();
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      console.error(`\nchaos: ${signal}, stopping wrangler dev`);
      killAll();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (error) => {
    console.error("chaos: uncaught error", error);
    killAll();
    process.exit(1);
  });
}

/** A restartable wrangler dev; `url` follows the current process (the port is kept when it is free). */
export class ChaosServer {
  readonly persistDir: string;
  #running: RunningWrangler | undefined;
  #port = 0;
  /** Resolves when the server answers; replaced by a pending promise while it is down. */
  #ready: Promise<void> = Promise.resolve();
  #markReady: () => void = () => undefined;
  /** Restarts done, and the seconds each took from kill to answering again. */
  readonly restartSeconds: number[] = [];

  constructor() {
    installCleanup();
    this.persistDir = mkdtempSync(join(tmpdir(), "edgeraft-chaos-"));
    liveDirectories.add(this.persistDir);
  }

  /** The base URL of the running process. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Whether the server is up (false between a kill and the end of the restart). */
  get up(): boolean {
    return this.#running !== undefined;
  }

  /** Waits until the server is up (clients call this before each operation). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Starts wrangler dev on the state directory, on the last port when there is one. */
  async start(): Promise<void> {
    const port = this.#port === 0 ? await freePort() : this.#port;
    try {
      this.#running = await startWrangler({ persistDir: this.persistDir, port });
    } catch (error) {
      if (this.#port === 0) throw error;
      // The old port is still held (e.g. by a socket in teardown): take another one.
      this.#running = await startWrangler({ persistDir: this.persistDir, port: await freePort() });
    }
    this.#port = this.#running.port;
    livePids.add(this.#running.pid);
    this.#markReady();
  }

  /** Kills the whole wrangler dev process group (a crash: no graceful shutdown), then starts it again. */
  async restart(): Promise<void> {
    const started = performance.now();
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) {
      await running.kill();
      livePids.delete(running.pid);
    }
    await this.start();
    this.restartSeconds.push((performance.now() - started) / 1000);
  }

  /** Stops the server for good and removes its state directory. */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) {
      await running.stop();
      livePids.delete(running.pid);
    }
    rmSync(this.persistDir, { recursive: true, force: true });
    liveDirectories.delete(this.persistDir);
  }

  /** The wrangler dev output so far (for a failure report). */
  output(): string {
    return this.#running?.output() ?? "";
  }
}
