/** The Worker's bindings and settings (wrangler.toml, .dev.vars, secrets). */

/** Environment of the Worker and of its Durable Objects. */
export interface Env {
  /** Replicas of data groups, one object per `<group>/<replica>`. */
  REPLICA: DurableObjectNamespace;
  /** Replicas of the metadata group, `meta/1` to `meta/3`. */
  META: DurableObjectNamespace;
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
}
