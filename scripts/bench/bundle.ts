/**
 * One bundle of the Worker per run, made with esbuild at the start, so both runtimes run the same
 * snapshot of src/ even while someone edits it (wrangler dev would otherwise rebuild and restart
 * the Worker mid-run on every change). The entry re-exports the Worker and its Durable Objects and
 * adds the bench-only ProbeObject, which only Miniflare binds. Also records which commit it is.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** A bundled Worker. */
export interface WorkerBundle {
  /** The directory holding worker.js and worker.js.map (Miniflare's modules root). */
  directory: string;
  scriptPath: string;
  /** The commit the working tree is at, and how many files under src/ differ from it. */
  source: { commit: string; uncommittedSourceFiles: number };
}

/** Bundles the Worker into `directory`/worker.js. */
export async function bundleWorker(directory: string): Promise<WorkerBundle> {
  mkdirSync(directory, { recursive: true });
  const scriptPath = join(directory, "worker.js");
  const root = process.cwd();
  await build({
    stdin: {
      contents: [
        `export { default, ReplicaObject, MetaObject, StatsObject } from ${JSON.stringify(join(root, "src/hosts/cloudflare/worker.ts"))};`,
        `export { ProbeObject } from ${JSON.stringify(join(root, "scripts/bench/probe-object.ts"))};`,
      ].join("\n"),
      resolveDir: root,
      sourcefile: "bench-entry.ts",
      loader: "ts",
    },
    outfile: scriptPath,
    sourcemap: "external", // for the profiler's file:line names (profile.ts)
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*", "node:*"],
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    logLevel: "warning",
  });
  return { directory, scriptPath, source: sourceState() };
}

function sourceState(): WorkerBundle["source"] {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const changed = execFileSync("git", ["status", "--porcelain", "--", "src"], { encoding: "utf8" }).split("\n").filter((line) => line !== "");
    return { commit, uncommittedSourceFiles: changed.length };
  } catch {
    return { commit: "unknown", uncommittedSourceFiles: -1 };
  }
}
