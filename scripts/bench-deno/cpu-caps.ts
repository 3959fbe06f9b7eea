/**
 * CPU caps per process through Linux cgroups (v1's cpu controller, or v2's cpu.max), so that the
 * three node processes of a benchmark cluster on one machine each get a fixed share of a core, as
 * three machines of equal size would give them: then a node that does more of the work (one
 * group's leader) is held to its share while the others idle, which two shared cores never show.
 * The period is the kernel's default, 100 ms, as a container's CPU limit under Kubernetes or Docker
 * has it (a 10 ms one cost the capped nodes a third more CPU per write in one run, 2026-12-02).
 * Needs root and a writable cgroup hierarchy; elsewhere capProcesses says why not.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Processes held to a share of a core until `release()`. */
export interface CpuCaps {
  /** Which cgroup hierarchy holds them (for the notes). */
  readonly kind: "cgroup v1" | "cgroup v2";
  /** Moves the processes that still run back to the hierarchy's root and removes the cgroups; answers those it could not remove. */
  release(): string[];
}

const periodMicroseconds = 100_000;

/** Holds each of `pids` to `percent` of one core (each its own cgroup); a string says why it cannot here. */
export function capProcesses(pids: readonly number[], percent: number): CpuCaps | string {
  const quotaMicroseconds = Math.round((percent / 100) * periodMicroseconds);
  const v1 = "/sys/fs/cgroup/cpu";
  if (existsSync(join(v1, "cpu.cfs_quota_us"))) {
    return capIn(v1, "cgroup v1", pids, (directory) => {
      writeFileSync(join(directory, "cpu.cfs_period_us"), String(periodMicroseconds));
      writeFileSync(join(directory, "cpu.cfs_quota_us"), String(quotaMicroseconds));
    });
  }
  const v2 = "/sys/fs/cgroup";
  const controllers = (file: string) => {
    try {
      return readFileSync(join(v2, file), "utf8").split(/\s+/);
    } catch {
      return [];
    }
  };
  if (!controllers("cgroup.controllers").includes("cpu")) return "no cgroup cpu controller here (neither /sys/fs/cgroup/cpu nor a v2 hierarchy offering cpu)";
  if (!controllers("cgroup.subtree_control").includes("cpu")) {
    try {
      writeFileSync(join(v2, "cgroup.subtree_control"), "+cpu"); // refused where the root itself holds processes (a container's namespace)
    } catch (error) {
      return `cgroup v2 does not hand the cpu controller to new cgroups here (${reason(error)})`;
    }
  }
  return capIn(v2, "cgroup v2", pids, (directory) => writeFileSync(join(directory, "cpu.max"), `${quotaMicroseconds} ${periodMicroseconds}`));
}

function capIn(root: string, kind: CpuCaps["kind"], pids: readonly number[], limit: (directory: string) => void): CpuCaps | string {
  const directories: string[] = [];
  const release = () => {
    const left: string[] = [];
    for (const directory of directories) {
      try {
        for (const pid of readFileSync(join(directory, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) writeFileSync(join(root, "cgroup.procs"), pid);
        rmdirSync(directory);
      } catch (error) {
        if (existsSync(directory)) left.push(`${directory} (${reason(error)})`);
      }
    }
    return left;
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
    const left = release();
    return `cannot cap CPU through ${kind} at ${root}: ${reason(error)}${left.length > 0 ? `; left behind: ${left.join(", ")}` : ""}`;
  }
  return { kind, release };
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));
