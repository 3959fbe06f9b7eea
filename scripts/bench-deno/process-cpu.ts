/**
 * CPU time of whole processes, read from /proc/<pid>/stat (user + system, every thread), so the
 * side-by-side benchmark can say how much of the machine each system and the load generator used
 * and what one operation cost in CPU: on a machine whose cores are all busy, throughput follows
 * CPU per operation, not latency. Linux only; elsewhere the readings are undefined.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** The summed user and system CPU of `pids` so far, in milliseconds (undefined when /proc cannot be read). */
export function processesCpuMs(pids: readonly number[]): number | undefined {
  ticksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // Fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
}
