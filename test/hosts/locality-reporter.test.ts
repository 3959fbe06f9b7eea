/**
 * Proves a data group leader's locality reports (hosts/cloudflare/locality-reporter.ts) with a fake
 * clock: requests are counted by origin only while the replica leads; a report goes out at most
 * once per window, and the tail of a window once more when its flush is due; counts of an earlier
 * term are dropped, not reported under a new one; and a window counts a bounded number of locations.
 */
import { describe, expect, it } from "vitest";
import { LocalityReporter } from "../../src/hosts/cloudflare/locality-reporter.ts";
import type { LocalityReport } from "../../src/multiraft/leader-balance.ts";

function reporter() {
  const state = { now: 0, leading: true, term: 4 };
  const sent: LocalityReport[] = [];
  const source = { group: "g", replica: 2, leadership: () => ({ leading: state.leading, term: state.term }), nowMs: () => state.now };
  return { state, sent, reporter: new LocalityReporter(source, 1_000, (report) => sent.push(report)) };
}

describe("the locality reporter", () => {
  it("reports counts by origin once per window, and the window's tail when its flush is due", () => {
    const { state, sent, reporter: r } = reporter();
    expect(r.flushAtMs()).toBeNull();
    r.noteOrigin("weur");
    r.noteOrigin("weur");
    state.now = 500;
    r.noteOrigin("apac");
    expect(sent).toEqual([]);
    expect(r.flushAtMs()).toBe(1_000);
    state.now = 1_000;
    r.noteOrigin("weur");
    expect(sent).toEqual([{ group: "g", leader: 2, term: 4, requests: { weur: 3, apac: 1 } }]);
    expect(r.flushAtMs()).toBeNull();
    r.noteOrigin("apac");
    state.now = 1_500;
    r.flush(); // not due yet
    expect(sent.length).toBe(1);
    state.now = 2_000;
    r.flush();
    expect(sent[1]).toEqual({ group: "g", leader: 2, term: 4, requests: { apac: 1 } });
    expect(r.flushAtMs()).toBeNull();
  });

  it("counts nothing on a follower and drops the counts of an earlier term", () => {
    const { state, sent, reporter: r } = reporter();
    state.leading = false;
    r.noteOrigin("weur");
    expect(r.flushAtMs()).toBeNull();
    state.leading = true;
    r.noteOrigin("weur");
    state.term = 5; // lost and regained leadership meanwhile
    r.noteOrigin("apac");
    state.now = 1_000;
    r.flush();
    expect(sent).toEqual([{ group: "g", leader: 2, term: 5, requests: { apac: 1 } }]);
    r.noteOrigin("apac");
    state.leading = false;
    state.now = 2_000;
    r.flush();
    expect(sent.length).toBe(1);
  });

  it("counts at most 32 locations per window", () => {
    const { state, sent, reporter: r } = reporter();
    for (let index = 0; index < 40; index++) r.noteOrigin(`place-${index}`);
    state.now = 1_000;
    r.flush();
    expect(Object.keys(sent[0]!.requests).length).toBe(32);
  });
});
