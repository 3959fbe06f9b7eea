/**
 * Where a group's leader should be (pure): a score per replica in the spirit of a Multi-Raft
 * placement manager (TiKV's PD, CockroachDB's lease preferences). A replica scores higher when
 * the group's requests come from its location (or a location near it), when its location carries
 * less request load, and when its location holds fewer leaderships. Leadership moves only with a
 * clear margin: either a better score by `scoreMargin`, or, when traffic gives no preference, a
 * location holding at least two more leaderships than another (so the move makes counts more
 * even and the reverse move never does). Scores are computed as if this group led at each
 * replica, everything else fixed, so where the leader is now never changes a replica's score.
 */

/** A replica of a group and its locationHint. */
export interface PlacedReplica {
  readonly id: number;
  readonly location: string;
}

/** Numbers per location (request counts, leaderships, requests per second). */
export type PerLocation = Readonly<Record<string, number>>;

/** What the score of one group's replicas is computed from. */
export interface LeaderPlacementInput {
  readonly replicas: readonly PlacedReplica[];
  /** The current leader's replica id (0: unknown). */
  readonly leader: number;
  /** This group's requests per location of origin over the balancer's window. */
  readonly requests: PerLocation;
  /** Leaderships per location over every known group, this one included at its current leader. */
  readonly leaderships: PerLocation;
  /** Requests per second led per location over every known group, this one included at its current leader. */
  readonly load: PerLocation;
  /** This group's requests per second. */
  readonly groupLoad: number;
}

/** How much each preference weighs and how clear a win must be. */
export interface PlacementRules {
  /** Requests below this count give no locality preference (too few to tell). */
  readonly requestsMin: number;
  /** A better score must win by at least this much to move leadership. */
  readonly scoreMargin: number;
  /** Weight of the load share of a replica's location (0..1 share). */
  readonly loadWeight: number;
  /** Weight of the leadership share of a replica's location (0..1 share). */
  readonly leadershipWeight: number;
  /** How much a request from a near location (same region) counts, against 1 for the same location. */
  readonly nearWeight: number;
}

/** Defaults: locality dominates, load and leaderships break near-ties, a move needs a 0.25 better score. */
export const defaultPlacementRules: PlacementRules = { requestsMin: 20, scoreMargin: 0.25, loadWeight: 0.2, leadershipWeight: 0.2, nearWeight: 0.5 };

/** One replica's score and its parts. */
export interface ReplicaScore {
  readonly id: number;
  readonly location: string;
  /** Share of the group's requests from this location (near ones weighed down), 0..1; 0 with too few requests. */
  readonly locality: number;
  /** Leaderships at this location if this group led here. */
  readonly leaderships: number;
  /** Requests per second led at this location if this group led here. */
  readonly load: number;
  readonly score: number;
}

/** What to do with a group's leadership. */
export type LeaderChoice =
  | { readonly kind: "stay"; readonly best: number }
  | { readonly kind: "transfer"; readonly to: number; readonly reason: "score" | "spread"; readonly detail: string };

/** Region of each locationHint: locations in one region are near each other. */
const regionOfLocation: Readonly<Record<string, string>> = {
  wnam: "americas", enam: "americas", sam: "americas",
  weur: "europe", eeur: "europe", me: "europe", afr: "europe",
  apac: "asia", "apac-ne": "asia", "apac-se": "asia", oc: "asia",
};

/** The region a locationHint lies in (the hint itself for an unknown one). */
export function regionOf(location: string): string {
  return regionOfLocation[location] ?? location;
}

/** The scores of every replica of a group, in replica order. */
export function scoreReplicas(input: LeaderPlacementInput, rules: PlacementRules = defaultPlacementRules): ReplicaScore[] {
  const leaderLocation = input.replicas.find((replica) => replica.id === input.leader)?.location;
  const requestsTotal = sumOf(input.requests);
  const othersAt = (counts: PerLocation, own: number, location: string) => (counts[location] ?? 0) - (location === leaderLocation ? own : 0);
  const leadershipsTotal = sumOf(input.leaderships) - (leaderLocation === undefined ? 0 : 1) + 1;
  const loadTotal = sumOf(input.load) - (leaderLocation === undefined ? 0 : input.groupLoad) + input.groupLoad;
  return input.replicas.map((replica) => {
    const locality = requestsTotal < rules.requestsMin ? 0 : localityOf(replica.location, input.requests, requestsTotal, rules.nearWeight);
    const leaderships = Math.max(0, othersAt(input.leaderships, 1, replica.location)) + 1;
    const load = Math.max(0, othersAt(input.load, input.groupLoad, replica.location)) + input.groupLoad;
    const loadShare = loadTotal > 0 ? load / loadTotal : 0;
    const score = locality - rules.loadWeight * loadShare - rules.leadershipWeight * (leaderships / leadershipsTotal);
    return { id: replica.id, location: replica.location, locality, leaderships, load, score };
  });
}

/**
 * Where the group's leadership should go. With an unknown leader (0) it stays (nothing to hand
 * over from). `force` (an operator's explicit request) moves to the best replica without a margin.
 */
export function chooseLeader(input: LeaderPlacementInput, rules: PlacementRules = defaultPlacementRules, options: { force?: boolean } = {}): LeaderChoice {
  const scores = scoreReplicas(input, rules);
  const best = bestOf(scores);
  const current = scores.find((score) => score.id === input.leader);
  if (current === undefined || best === undefined) return { kind: "stay", best: best?.id ?? input.leader };
  if (best.id !== current.id && best.score - current.score >= (options.force === true ? Number.MIN_VALUE : rules.scoreMargin)) {
    return { kind: "transfer", to: best.id, reason: "score", detail: `replica ${best.id} (${best.location}) scores ${best.score.toFixed(2)} against ${current.score.toFixed(2)}` };
  }
  // Spread: a location with at least two more leaderships than another gives one up, when that
  // costs no clear score (so the move is never undone by the rule above, nor by this one).
  const spread = scores
    .filter((score) => score.location !== current.location && score.score > current.score - rules.scoreMargin / 2)
    .filter((score) => current.leaderships >= score.leaderships + 1)
    .sort((a, b) => a.leaderships - b.leaderships || b.score - a.score || a.id - b.id)[0];
  if (spread !== undefined) {
    return { kind: "transfer", to: spread.id, reason: "spread", detail: `${current.location} holds ${current.leaderships} leaderships, ${spread.location} would hold ${spread.leaderships}` };
  }
  return { kind: "stay", best: best.id };
}

/** The locationHint nearest to where a request came from, by its `cf` data (continent, country, longitude); undefined when unknown. */
export function locationOfOrigin(origin: { readonly continent?: unknown; readonly country?: unknown; readonly longitude?: unknown }): string | undefined {
  const continent = typeof origin.continent === "string" ? origin.continent : undefined;
  const country = typeof origin.country === "string" ? origin.country : "";
  const longitude = Number(origin.longitude);
  switch (continent) {
    case "NA":
      return Number.isFinite(longitude) && longitude < -100 ? "wnam" : "enam";
    case "SA":
      return "sam";
    case "EU":
      return easternEurope.has(country) || (Number.isFinite(longitude) && longitude >= 20) ? "eeur" : "weur";
    case "AF":
      return "afr";
    case "AS":
      return middleEast.has(country) ? "me" : "apac";
    case "OC":
      return "oc";
    default:
      return undefined;
  }
}

const easternEurope = new Set(["PL", "CZ", "SK", "HU", "RO", "BG", "UA", "BY", "MD", "LT", "LV", "EE", "FI", "GR", "RS", "HR", "SI", "BA", "ME", "MK", "AL", "RU", "CY", "TR"]);
const middleEast = new Set(["AE", "SA", "IL", "IR", "IQ", "JO", "KW", "LB", "OM", "QA", "BH", "SY", "YE", "PS"]);

function localityOf(location: string, requests: PerLocation, total: number, nearWeight: number): number {
  let weighted = 0;
  for (const [origin, count] of Object.entries(requests)) {
    if (origin === location) weighted += count;
    else if (regionOf(origin) === regionOf(location)) weighted += nearWeight * count;
  }
  return weighted / total;
}

function bestOf(scores: readonly ReplicaScore[]): ReplicaScore | undefined {
  let best: ReplicaScore | undefined;
  for (const score of scores) if (best === undefined || score.score > best.score) best = score;
  return best;
}

function sumOf(counts: PerLocation): number {
  let total = 0;
  for (const count of Object.values(counts)) total += count;
  return total;
}
