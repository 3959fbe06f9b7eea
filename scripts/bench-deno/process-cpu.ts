/**
 * CPU time of whole processes, read from /proc/<pid>/stat (user + system, every thread), so the
 * side-by-side benchmark can say how much of the machine each system and the load generator used
 * and what one operation cost in CPU: on a machine whose cores are all busy, throughput follows
 * CPU per operation, not latency. Also the main threads' CPU and the bytes written to storage.
 * Linux only; elsewhere the readings are undefined.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** The summed user and system CPU of `pids` so far, in milliseconds (undefined when /proc cannot be read). */
export function processesCpuMs(pids: readonly number[]): number | undefined {
  return cpuMsOf(pids.map((pid) => `/proc/${pid}/stat`));
}

/**
 * The same for the main thread of each process only (its task whose id is the process id): on a
 * Deno node the one JavaScript event loop, where HTTP, WebSocket frames, SQLite and the engine
 * run; the rest is V8's helper threads (garbage collection, compilation) and tokio's.
 */
export function mainThreadsCpuMs(pids: readonly number[]): number | undefined {
  return cpuMsOf(pids.map((pid) => `/proc/${pid}/task/${pid}/stat`));
}

/** Bytes the processes caused to be written to storage so far (write_bytes of /proc/<pid>/io), or undefined. */
export function processesWrittenBytes(pids: readonly number[]): number | undefined {
  let bytes = 0;
  for (const pid of pids) {
    try {
      const match = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
      if (match === null) return undefined;
      bytes += Number(match[1]);
    } catch {
      return undefined;
    }
  }
  return bytes;
}

/** Time the whole machine's CPUs spent busy (user, nice, system, irq, softirq) and stolen by the hypervisor so far, in milliseconds, from /proc/stat; undefined elsewhere. */
export function machineCpuMs(): { busyMs: number; stealMs: number } | undefined {
  ticksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return { busyMs: ((user + nice + system + irq + softirq) * 1000) / ticksPerSecond, stealMs: (steal * 1000) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

function cpuMsOf(statFiles: readonly string[]): number | undefined {
  ticksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
  let ticks = 0;
  for (const file of statFiles) {
    let stat: string;
    try {
      stat = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    // Fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
}
