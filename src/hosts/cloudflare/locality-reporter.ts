/**
 * A data group leader's locality reports: it counts the client requests it serves by where they
 * came from (the router's `origin`, a locationHint) and sends the counts to the metadata group's
 * leader balancer over the load-report channel (POST /internal/report), at most once per report
 * window, and once more one alarm after the last counted request so a window's tail is not lost.
 * Nothing is counted on followers and nothing is sent by an idle group; nothing is polled.
 */
import type { LocalityReport } from "../../multiraft/leader-balance.ts";

/** Distinct locations counted per window; requests from any further ones are not counted. */
const locationsPerWindowMax = 32;

/** What the reporter reads from its replica. */
export interface LocalitySource {
  readonly group: string;
  readonly replica: number;
  /** Whether this replica leads its group now, and in which term. */
  leadership(): { leading: boolean; term: number };
  nowMs(): number;
}

/** Counts requests by origin and decides when to report them. */
export class LocalityReporter {
  private readonly source: LocalitySource;
  private readonly reportMs: number;
  private readonly send: (report: LocalityReport) => void;
  private counts: Record<string, number> = {};
  private windowStartedAtMs: number | undefined;
  private term = 0;

  /** Reports at most every `reportMs` milliseconds through `send`. */
  constructor(source: LocalitySource, reportMs: number, send: (report: LocalityReport) => void) {
    this.source = source;
    this.reportMs = reportMs;
    this.send = send;
  }

  /** A client request from `origin` was answered here. */
  noteOrigin(origin: string): void {
    const { leading, term } = this.source.leadership();
    if (!leading) return;
    if (term !== this.term) this.reset(term); // counts of an earlier term belong to that term's leadership
    if (this.counts[origin] === undefined && Object.keys(this.counts).length >= locationsPerWindowMax) return;
    this.counts[origin] = (this.counts[origin] ?? 0) + 1;
    const now = this.source.nowMs();
    this.windowStartedAtMs ??= now;
    if (now - this.windowStartedAtMs >= this.reportMs) this.report();
  }

  /** When the host should call flush() (one report window after the window's first request), or null for never. */
  flushAtMs(): number | null {
    return this.windowStartedAtMs === undefined ? null : this.windowStartedAtMs + this.reportMs;
  }

  /** The window is over: report what it counted (if this replica still leads). */
  flush(): void {
    if (this.windowStartedAtMs === undefined || this.source.nowMs() < this.windowStartedAtMs + this.reportMs) return;
    const { leading, term } = this.source.leadership();
    if (!leading || term !== this.term) this.reset(term);
    else this.report();
  }

  private report(): void {
    this.send({ group: this.source.group, leader: this.source.replica, term: this.term, requests: this.counts });
    this.reset(this.term);
  }

  private reset(term: number): void {
    this.counts = {};
    this.windowStartedAtMs = undefined;
    this.term = term;
  }
}
