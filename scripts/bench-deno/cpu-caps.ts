/**
 * CPU caps per process through Linux cgroups (v1's cpu controller, or v2's cpu.max), so that the
 * three node processes of a benchmark cluster on one machine each get a fixed share of a core, as
 * three machines of equal size would give them: then a node that does more of the work (one
 * group's leader) is held to its share while the others idle, which two shared cores never show.
 * Needs root and a writable cgroup hierarchy; elsewhere capProcesses says why not.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Processes held to a share of a core until `release()`. */
export interface CpuCaps {
  /** Which cgroup hierarchy holds them (for the notes). */
  readonly kind: "cgroup v1" | "cgroup v2";
  /** Moves the processes that still run back out and removes the cgroups. */
  release(): void;
}

const period = 100_000; // microseconds: the kernel's default CFS period

/** Holds each of `pids` to `percent` of one core (each its own cgroup); a string says why it cannot here. */
export function capProcesses(pids: readonly number[], percent: number): CpuCaps | string {
  const quota = Math.round((percent / 100) * period);
  const v1 = "/sys/fs/cgroup/cpu";
  if (existsSync(join(v1, "cpu.cfs_quota_us"))) {
    return capIn(v1, "cgroup v1", pids, (directory) => {
      writeFileSync(join(directory, "cpu.cfs_period_us"), String(period));
      writeFileSync(join(directory, "cpu.cfs_quota_us"), String(quota));
    });
  }
  const v2 = "/sys/fs/cgroup";
  if (existsSync(join(v2, "cgroup.controllers")) && readFileSync(join(v2, "cgroup.controllers"), "utf8").split(/\s+/).includes("cpu")) {
    return capIn(v2, "cgroup v2", pids, (directory) => writeFileSync(join(directory, "cpu.max"), `${quota} ${period}`));
  }
  return "no cgroup cpu controller here (/sys/fs/cgroup/cpu or a v2 hierarchy with cpu)";
}

function capIn(root: string, kind: CpuCaps["kind"], pids: readonly number[], limit: (directory: string) => void): CpuCaps | string {
  const directories: string[] = [];
  const release = () => {
    for (const directory of directories) {
      try {
        for (const pid of readFileSync(join(directory, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) writeFileSync(join(root, "cgroup.procs"), pid);
        rmdirSync(directory);
      } catch {
        // already gone, or the process exits meanwhile: nothing is left to undo
      }
    }
  };
  try {
    for (const pid of pids) {
      const directory = join(root, `edgeraft-bench-${pid}`);
      if (!existsSync(directory)) mkdirSync(directory);
      directories.push(directory);
      limit(directory);
      writeFileSync(join(directory, "cgroup.procs"), String(pid)); // every thread of the process, and those it starts later
    }
  } catch (error) {
    release();
    return `cannot cap CPU through ${kind} at ${root}: ${error instanceof Error ? error.message : String(error)} (needs root)`;
  }
  return { kind, release };
}
