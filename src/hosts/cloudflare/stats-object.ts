/**
 * StatsObject: the aggregate of replica reports that GET /metrics reads (one object, named
 * "stats"). Replicas send a report when their state changes (hosts/common/stats-reporter.ts); a
 * scrape reads the last report of every replica from here in one request, so it never wakes a
 * replica, starts an election or costs more for idle groups. Reports live in the object's SQLite
 * storage, so they survive its hibernation; a newer report replaces an older one.
 */
import { DurableObject } from "cloudflare:workers";
import type { ReplicaReport } from "../common/stats-reporter.ts";
import type { ReplicaReportView } from "../../router/metrics/replica-stats.ts";
import type { Env } from "./env.ts";

/** The name of the one stats object. */
export const statsObjectName = "stats";

/** Sends `report` to the stats object (best effort: a lost report is followed by the next). */
export async function sendStatsReport(env: Env, report: ReplicaReport): Promise<void> {
  try {
    const stub = env.STATS.get(env.STATS.idFromName(statsObjectName));
    await stub.fetch("https://stats/report", { method: "POST", body: JSON.stringify(report), headers: { "content-type": "application/json" } });
  } catch {
    // The next state change reports again.
  }
}

/** Every replica's last report, from the stats object. */
export async function readStatsReports(env: Env): Promise<ReplicaReportView[]> {
  const stub = env.STATS.get(env.STATS.idFromName(statsObjectName));
  const response = await stub.fetch("https://stats/reports");
  if (!response.ok) throw new Error(`the stats object answered ${response.status}`);
  return (await response.json()) as ReplicaReportView[];
}

/** The Durable Object keeping the last report of every replica. */
export class StatsObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS replica_reports (replica TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, report TEXT NOT NULL)");
  }

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method === "POST" && path === "/report") {
      // The reporting replica may be aborted mid-request (a crash): then there is no report to keep.
      const report = (await request.json().catch(() => undefined)) as ReplicaReport | undefined;
      if (typeof report?.group !== "string" || typeof report.replica !== "number" || typeof report.atMs !== "number") return Response.json({ kind: "badRequest" }, { status: 400 });
      this.ctx.storage.sql.exec(
        "INSERT INTO replica_reports (replica, at_ms, report) VALUES (?, ?, ?) ON CONFLICT (replica) DO UPDATE SET at_ms = excluded.at_ms, report = excluded.report WHERE excluded.at_ms >= replica_reports.at_ms",
        `${report.group}/${report.replica}`, report.atMs, JSON.stringify(report),
      );
      return Response.json({ kind: "ok" });
    }
    if (request.method === "GET" && path === "/reports") {
      const rows = this.ctx.storage.sql.exec("SELECT report FROM replica_reports").toArray();
      return new Response(`[${rows.map((row) => String(row.report)).join(",")}]`, { headers: { "content-type": "application/json" } });
    }
    return Response.json({ kind: "notFound" }, { status: 404 });
  }
}
