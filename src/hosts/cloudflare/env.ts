/** The Worker's bindings and settings (wrangler.toml, .dev.vars, secrets). */
import { defaultLeaderBalanceRules, type LeaderBalanceRules } from "../../multiraft/leader-balance.ts";

/** Environment of the Worker and of its Durable Objects. */
export interface Env {
  /** Replicas of data groups, one object per `<group>/<replica>`. */
  REPLICA: DurableObjectNamespace;
  /** Replicas of the metadata group, `meta/1` to `meta/3`. */
  META: DurableObjectNamespace;
  /** The stats aggregate GET /metrics reads (one object, "stats"; replicas report to it). */
  STATS: DurableObjectNamespace;
  /** The admin bearer token (a secret); without it the Worker refuses requests. */
  ADMIN_TOKEN?: string;
  /** "on" exposes fault-injection routes; dev only, never in a deployed config. */
  FAULTS?: string;
  /** "on" exposes the bench-only load routes (/v1/bench/*) for `npm run bench`; dev only, never deployed. */
  BENCH?: string;
  /** Comma-separated locationHints for the replicas of new groups (default wnam,weur,apac). */
  LOCATIONS?: string;
  /** Raft tick in milliseconds (default 100). */
  RAFT_TICK_MS?: string;
  /** Dev and tests only: compact a replica's log after this many applied entries (default 10,000). */
  RAFT_SNAPSHOT_ENTRIES?: string;
  /** A group holding this many keys splits automatically (default 100000). */
  SPLIT_KEYS?: string;
  /** A group holding this many bytes of keys and values splits automatically (default 67108864, 64 MiB). */
  SPLIT_BYTES?: string;
  /** A group taking this many writes per second splits automatically (default 1000). */
  SPLIT_WRITES_PER_SECOND?: string;
  /** Two adjacent quiet groups under this many keys each merge, when one came from an automatic split (default 1000). */
  MERGE_KEYS?: string;
  /** GET /v1/health counts a replica as lagging past this many log entries behind its leader (default 1000). */
  HEALTH_LAG_ENTRIES?: string;
  /** A group with no write for this many milliseconds is idle: after one last quiet check it sets no alarm (default 5000). */
  IDLE_AFTER_MS?: string;
  /** GET /v1/health counts a replica as lagging when behind its leader's commit for more than this many seconds. */
  HEALTH_LAG_SECONDS?: string;
  /** Structured log level: debug, info, warn (default: quiet), error or off (src/router/log.ts). */
  LOG_LEVEL?: string;
  /** Time between two leader balancing passes while groups report traffic, in ms (default 10000); "off" disables leader balancing. */
  LEADER_BALANCE_MS?: string;
  /** Least time between two automatic leadership transfers of one group, in ms (default 60000). */
  LEADER_TRANSFER_MIN_MS?: string;
  /** Request counts per location halve over this time, in ms (default 60000). */
  LEADER_HALF_LIFE_MS?: string;
}

/** The leader balancer's rules from the settings (each falling back to its default), or undefined when LEADER_BALANCE_MS is "off". */
export function leaderBalanceRulesOf(env: Env): LeaderBalanceRules | undefined {
  if (env.LEADER_BALANCE_MS?.trim() === "off") return undefined;
  const pick = (text: string | undefined, fallback: number) => {
    const value = Number(text ?? "");
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const defaults = defaultLeaderBalanceRules;
  const halfLifeMs = pick(env.LEADER_HALF_LIFE_MS, defaults.halfLifeMs);
  return {
    ...defaults,
    passIntervalMs: pick(env.LEADER_BALANCE_MS, defaults.passIntervalMs),
    transferIntervalMinMs: pick(env.LEADER_TRANSFER_MIN_MS, defaults.transferIntervalMinMs),
    halfLifeMs,
    activeMs: Math.max(defaults.activeMs, 2 * halfLifeMs),
  };
}

/** How often a data group's leader reports its locality counts: twice per balancing pass, at most every half second. */
export function localityReportMsOf(rules: LeaderBalanceRules): number {
  return Math.max(500, Math.floor(rules.passIntervalMs / 2));
}

/** The locationHints for the replicas of new groups, in order (default wnam, weur, apac). */
export function locationsOf(env: Env): string[] {
  return (env.LOCATIONS ?? "wnam,weur,apac").split(",").map((location) => location.trim()).filter((location) => location !== "");
}

/** The lag limit of GET /v1/health from HEALTH_LAG_ENTRIES, or undefined (the app's default) when absent or not a whole number. */
export function healthLagEntriesOf(env: Env): number | undefined {
  const text = env.HEALTH_LAG_ENTRIES;
  return text !== undefined && /^[0-9]{1,9}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** The lag limit in seconds of GET /v1/health from HEALTH_LAG_SECONDS, or undefined (the app's default) when absent or not a whole number. */
export function healthLagSecondsOf(env: Env): number | undefined {
  const text = env.HEALTH_LAG_SECONDS;
  return text !== undefined && /^[0-9]{1,6}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}
