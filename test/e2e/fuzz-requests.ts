/**
 * fast-check generators of requests the API must refuse, one family per route. Every generated
 * request carries at least one defect that the API checks before touching any data (bad token,
 * malformed key or tenant, bad precondition, bad query, bad or oversized body, unknown route, wrong
 * method), so each must be a 4xx and none may change anything. Around the defect the rest of the
 * request is random and often valid (keys in the compared keyspace, well-formed operations), so a
 * check that were skipped would show up as changed data. Names of groups and tenants are never
 * valid-and-new, so nothing here can create a group.
 */
import fc from "fast-check";

/** A request to send exactly as built: any Authorization header is in `headers`, raw (absent: none). */
export interface FuzzRequest {
  family: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

/** The tenant whose keyspace the fuzzer compares; it exists before the fuzzing starts. */
export const fuzzTenant = "fuzz";
/** Valid keys of the compared keyspaces start with this (the shared and the tenant's). */
export const fuzzKeyPrefix = "fuzz/";

/** The bearer credentials the generators choose from. */
export interface Credentials {
  admin: string;
  /** A token of `fuzzTenant`. */
  tenant: string;
}

const ascii = fc.stringMatching(/^[ -~]{0,40}$/);
const word = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const validKey = word.map((text) => `${fuzzKeyPrefix}${text}`);
/** Percent-escapes that are malformed or decode to bytes that are not UTF-8. */
const badEscape = fc.constantFrom("%", "%%", "%ZZ", "%E0%A4%A", "%FF", "%C0%80", "%ED%A0%80", "%F0%90%80", "%C3", "%e9");
const badKeyText = fc.oneof(
  // The "-" keeps the tail from completing the escape ("%E0%A4%A" then "0" would be a valid character).
  fc.tuple(word, badEscape, fc.option(word, { nil: undefined })).map(([head, escape, tail]) => `${head}${escape}${tail === undefined ? "" : `-${tail}`}`),
  fc.integer({ min: 1025, max: 1100 }).map((length) => "k".repeat(length)),
  fc.integer({ min: 342, max: 360 }).map((count) => encodeURIComponent("\u20ac".repeat(count))), // 3 bytes each: over 1 KiB
);
const badTenantName = fc.oneof(
  fc.constantFrom("Bad", "UPPER", "under_score", "-leading", "t".repeat(64), "caf%C3%A9", "%E0%A4%A", "a%2Fb", "a.b"),
  fc.tuple(word, badEscape).map(([head, escape]) => `${head}${escape}`),
);
const badGroupName = fc.oneof(
  fc.constantFrom("Upper", "-dash", "_under", "g".repeat(129), "%FF", "%ZZ", "a%20b"),
  word.map((text) => `zz-fuzz-absent-${text}`), // valid shape, but no such group
);
const smallBytes = fc.uint8Array({ maxLength: 48 });
// The tail is ASCII: a continuation byte after the truncated [0xe2, 0x82] would complete it into valid UTF-8.
const nonUtf8Bytes = fc.tuple(fc.uint8Array({ maxLength: 16 }), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82]), fc.uint8Array({ max: 0x7f, maxLength: 16 }))
  .map(([head, bad, tail]) => new Uint8Array([...head, ...bad, ...tail]));

/** An Authorization header that authenticates nobody (undefined: none at all). */
function badAuthorization(credentials: Credentials): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer a b", "Bearer {tok}", "Bearer\ttoken", "Bearer tok,en"),
    fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,64}=*$/).filter((token) => token !== credentials.admin && token !== credentials.tenant).map((token) => `Bearer ${token}`),
    fc.constantFrom(`Bearer ${credentials.admin}x`, `Bearer ${credentials.admin.slice(1)}`, `Bearer ${"t".repeat(6000)}`),
    ascii.filter((text) => !/^bearer +[A-Za-z0-9._~+/-]+=* *$/i.test(text.trim())),
  );
}

/** Noise that no defect depends on: harmless headers in random spellings. */
const noise = fc.dictionary(fc.constantFrom("accept", "content-type", "x-fuzz", "user-agent", "accept-encoding"), ascii.map((text) => text.trim()), { maxKeys: 3 });

function request(family: string, method: string, path: string, authorization: string | undefined, extra: { headers?: Record<string, string>; body?: Uint8Array | string } = {}): FuzzRequest {
  const headers: Record<string, string> = { ...extra.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  return { family, method, path, headers, ...(extra.body === undefined ? {} : { body: extra.body }) };
}

/** `/v1/kv` or the fuzz tenant's `/v1/tenants/fuzz/kv`. */
const keyspaceBase = fc.constantFrom("/v1/kv", `/v1/tenants/${fuzzTenant}/kv`);

/** A query string whose consistency is not one of the three, or given twice. */
const badConsistencyQuery = fc.oneof(
  ascii.filter((text) => !["linearizable", "lease", "stale"].includes(text)).map((text) => `consistency=${encodeURIComponent(text)}`),
  fc.constant("consistency=stale&consistency=lease"),
);

/**
 * The key routes: GET, PUT and DELETE of one key. Precondition headers are never empty: workerd
 * removes an empty If-Match or If-None-Match before the Worker sees it, so that PUT is an
 * ordinary unconditional write (a platform behaviour, recorded in docs/chaos.md).
 */
function keyRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const admin = `Bearer ${credentials.admin}`;
  const method = fc.constantFrom("GET", "PUT", "DELETE");
  const badIfMatch = fc.oneof(
    fc.constantFrom("nope", 'W/"1"', '"1", "2"', "*", "1", '"-1"', '"01"', '""', '"1.5"', '"1', 'W/"0"', '"0x1"'),
    ascii.filter((text) => text.trim() !== "" && !/^"(0|[1-9][0-9]{0,15})"$/.test(text.trim())),
  );
  const badCondition = fc.oneof(
    fc.tuple(fc.constantFrom("PUT", "DELETE"), badIfMatch).map(([verb, value]) => ({ verb, headers: { "if-match": value } })),
    fc.tuple(fc.constant("PUT"), ascii.filter((text) => text.trim() !== "*" && text.trim() !== "")).map(([verb, value]) => ({ verb, headers: { "if-none-match": value } })),
    fc.constantFrom<{ verb: string; headers: Record<string, string> }>({ verb: "PUT", headers: { "if-match": '"1"', "if-none-match": "*" } }, { verb: "DELETE", headers: { "if-none-match": "*" } }),
  );
  return fc.oneof(
    fc.tuple(keyspaceBase, badKeyText, method, smallBytes).map(([base, key, verb, body]) =>
      request("kv: malformed key", verb, `${base}/${key}`, admin, verb === "PUT" ? { body } : {})),
    fc.tuple(keyspaceBase, validKey, badCondition, fc.oneof(smallBytes, nonUtf8Bytes)).map(([base, key, condition, body]) =>
      request("kv: bad precondition", condition.verb, `${base}/${key}`, admin, { headers: condition.headers, ...(condition.verb === "PUT" ? { body } : {}) })),
    fc.tuple(keyspaceBase, validKey, method, badAuthorization(credentials), nonUtf8Bytes).map(([base, key, verb, authorization, body]) =>
      request("kv: bad token", verb, `${base}/${key}`, authorization, verb === "PUT" ? { body } : {})),
    fc.tuple(validKey, method, fc.constantFrom("/v1/kv", "/v1/tenants/other-tenant/kv")).map(([key, verb, base]) =>
      request("kv: tenant token outside its keyspace", verb, `${base}/${key}`, `Bearer ${credentials.tenant}`, verb === "PUT" ? { body: "x" } : {})),
    fc.tuple(badTenantName, validKey, method).map(([tenant, key, verb]) =>
      request("kv: malformed tenant", verb, `/v1/tenants/${tenant}/kv/${key}`, admin, verb === "PUT" ? { body: "x" } : {})),
    fc.tuple(keyspaceBase, validKey, badConsistencyQuery).map(([base, key, query]) => request("kv: bad consistency", "GET", `${base}/${key}?${query}`, admin)),
  );
}

/** Oversized values: PUT bodies just over 1 MiB (rare: each is a megabyte on the wire). */
function oversizedRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(keyspaceBase, validKey, fc.integer({ min: 1, max: 64 })).map(([base, key, extra]) =>
    request("kv: value over 1 MiB", "PUT", `${base}/${key}`, `Bearer ${credentials.admin}`, { body: new Uint8Array(1024 * 1024 + extra) }));
}

/** The scan route. */
function scanRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const admin = `Bearer ${credentials.admin}`;
  const badLimit = fc.oneof(fc.constantFrom("0", "1001", "-1", "1.5", "", "abc", "1e3", "99999999", " 5", "0x10"), ascii.filter((text) => {
    const limit = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
    return !(limit >= 1 && limit <= 1000);
  }));
  const defect = fc.oneof(
    badLimit.map((limit) => `limit=${encodeURIComponent(limit)}`),
    badConsistencyQuery,
    fc.constantFrom("prefix", "start", "end", "limit", "cursor", "consistency").map((name) => `${name}=a&${name}=b`),
    fc.tuple(fc.constantFrom("prefix", "start", "end", "cursor", "x"), badEscape).map(([name, escape]) => `${name}=${escape}`),
    fc.tuple(fc.constantFrom("prefix", "start", "end"), fc.integer({ min: 1025, max: 1200 })).map(([name, length]) => `${name}=${"p".repeat(length)}`),
    fc.integer({ min: 8193, max: 8300 }).map((length) => `cursor=${"c".repeat(length)}`),
  );
  const validPart = fc.constantFrom("prefix=fuzz%2F", "limit=5", "consistency=stale", "start=a");
  return fc.oneof(
    fc.tuple(keyspaceBase, defect, fc.option(validPart, { nil: undefined })).map(([base, broken, valid]) =>
      request("scan: bad query", "GET", `${base}?${valid === undefined ? broken : `${valid}&${broken}`}`, admin)),
    fc.tuple(keyspaceBase, badAuthorization(credentials)).map(([base, authorization]) => request("scan: bad token", "GET", base, authorization)),
    fc.constant(request("scan: tenant token outside its keyspace", "GET", "/v1/kv?prefix=fuzz%2F", `Bearer ${credentials.tenant}`)),
    badTenantName.map((tenant) => request("scan: malformed tenant", "GET", `/v1/tenants/${tenant}/kv`, admin)),
  );
}

/** A batch operation; valid ones put into the compared keyspace. */
const validOperation = fc.oneof(
  fc.tuple(validKey, fc.string({ maxLength: 12 })).map(([key, value]) => ({ op: "put", key, value })),
  validKey.map((key) => ({ op: "delete", key })),
  validKey.map((key) => ({ op: "get", key })),
);
/** An operation the schema or the value rules refuse. */
const brokenOperation: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    { op: "explode", key: "fuzz/a" }, { op: "put", key: "fuzz/a" }, { op: "put", key: "fuzz/a", value: "x", valueBase64: "eA==" },
    { op: "put", key: "fuzz/a", valueBase64: "abc" }, { op: "put", key: "fuzz/a", valueBase64: "e A==" }, { op: "put", key: "", value: "x" },
    { op: "put", key: "fuzz/a", value: "\ud800" }, { op: "put", key: "fuzz/\udc00", value: "x" }, { op: "put", key: 7, value: "x" },
    { op: "put", key: "fuzz/a", value: "x", ifMatch: -1 }, { op: "put", key: "fuzz/a", value: "x", ifMatch: 1.5 },
    { op: "put", key: "fuzz/a", value: "x", ifMatch: "3" }, { op: "put", key: "fuzz/a", value: "x", ifNoneMatch: "1" },
    { op: "put", key: "fuzz/a", value: "x", ifMatch: 1, ifNoneMatch: "*" }, { op: "delete", key: "fuzz/a", ifNoneMatch: "*" },
    { op: "delete", key: "fuzz/a", value: "x" }, { op: "get", key: "fuzz/a", ifMatch: 1 }, { op: "get" }, null, 5, "get", [],
  ),
  fc.integer({ min: 1025, max: 1100 }).map((length) => ({ op: "get", key: "k".repeat(length) })),
  fc.tuple(validOperation, fc.string({ minLength: 1, maxLength: 8 }).filter((name) => !["op", "key", "value", "valueBase64", "ifMatch", "ifNoneMatch", "__proto__"].includes(name)))
    .map(([operation, field]) => ({ ...operation, [field]: 1 })),
);
const brokenBatchJson = fc.oneof(
  fc.tuple(fc.array(validOperation, { maxLength: 4 }), brokenOperation, fc.array(validOperation, { maxLength: 4 })).map(([before, broken, after]) => JSON.stringify({ operations: [...before, broken, ...after] })),
  fc.constantFrom("{}", "[]", "null", "7", '"operations"', '{"operations": []}', '{"operations": {}}', '{"operations": null}', "{not json", '{"operations": [', ""),
  fc.array(validOperation, { minLength: 1, maxLength: 2 }).map((operations) => JSON.stringify({ operations, extra: true })),
  fc.constant(JSON.stringify({ operations: Array.from({ length: 1001 }, (_, index) => ({ op: "get", key: `fuzz/${index}` })) })),
);

/** The batch routes. */
function batchRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const admin = `Bearer ${credentials.admin}`;
  const base = fc.constantFrom("/v1/batch", `/v1/tenants/${fuzzTenant}/batch`);
  const json = { "content-type": "application/json" };
  return fc.oneof(
    fc.tuple(base, brokenBatchJson).map(([path, body]) => request("batch: malformed body", "POST", path, admin, { headers: json, body })),
    fc.tuple(base, nonUtf8Bytes).map(([path, bytes]) => request("batch: body not UTF-8", "POST", path, admin, { headers: json, body: new Uint8Array([...new TextEncoder().encode('{"operations":[{"op":"get","key":"'), ...bytes, ...new TextEncoder().encode('"}]}')]) })),
    fc.tuple(base, fc.array(validOperation, { minLength: 1, maxLength: 3 }), badAuthorization(credentials)).map(([path, operations, authorization]) =>
      request("batch: bad token", "POST", path, authorization, { headers: json, body: JSON.stringify({ operations }) })),
    fc.array(validOperation, { minLength: 1, maxLength: 3 }).map((operations) =>
      request("batch: tenant token outside its keyspace", "POST", "/v1/batch", `Bearer ${credentials.tenant}`, { headers: json, body: JSON.stringify({ operations }) })),
  );
}

/** Group, tenant-token, health and fault routes (admin only), and routes that do not exist. */
function adminRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const admin = `Bearer ${credentials.admin}`;
  const json = { "content-type": "application/json" };
  const brokenGroup = fc.oneof(
    fc.constantFrom<unknown>(
      { name: "Bad", prefix: "p/" }, { name: "tenant-x", prefix: "p/" }, { name: "meta2", prefix: "p/" }, { name: "zz-fuzz", prefix: "p/", start: "a" },
      { name: "zz-fuzz" }, { name: "zz-fuzz", prefix: "p/", end: "z" }, { name: "zz-fuzz", start: "b", end: "a" }, { name: "zz-fuzz", start: "a", end: "a" },
      { name: "zz-fuzz", prefix: "" }, { name: "zz-fuzz", prefix: "p/", replicas: 0 }, { name: "zz-fuzz", prefix: "p/", replicas: 10 },
      { name: "zz-fuzz", prefix: "p/", replicas: 1.5 }, { name: "zz-fuzz", prefix: "p/", replicas: "3" }, { name: "zz-fuzz", prefix: "p/", locations: [] },
      { name: "zz-fuzz", prefix: "p/", locations: ["wnam", "wnam"] }, { name: "zz-fuzz", prefix: "p/", locations: ["Not Valid"] },
      { name: "zz-fuzz", prefix: "p/", extra: 1 }, { name: "zz-fuzz", prefix: "\ud800" }, { name: 5, prefix: "p/" }, [], null, "zz-fuzz",
    ),
    fc.integer({ min: 1025, max: 1100 }).map((length) => ({ name: "zz-fuzz", prefix: "p".repeat(length) })),
  );
  const brokenFault = fc.constantFrom<unknown>(
    { kind: "explode", group: "default" }, { kind: "drop", group: "default", fraction: 1.5 }, { kind: "drop", group: "default", fraction: -0.1 },
    { kind: "delay", group: "default", fraction: 0.5, delayMs: 60_001 }, { kind: "delay", group: "default", fraction: 0.5 },
    { kind: "crash", group: "default", replica: -1 }, { kind: "crash", group: "default", replica: 1.5 }, { kind: "isolate", group: "Default", replica: 1 },
    { kind: "crash", replica: 1 }, { kind: "heal", group: "%%" }, { kind: "heal", group: "default", extra: true }, { group: "default" }, [], null,
  );
  // Malformed, or well formed but naming a replica the default group does not have (404 replicaNotFound).
  const brokenTransfer = fc.constantFrom<unknown>({ to: "2" }, { to: 0 }, { to: -1 }, { to: 1.5 }, { to: null }, { to: 2, extra: 1 }, { to: 99 }, { to: 2 ** 53 }, [], null, "2", 7);
  const bodyOf = (value: unknown) => JSON.stringify(value);
  const oversizedJson = fc.integer({ min: 1, max: 64 }).map((extra) => `{"name":"zz-fuzz","prefix":"${"p".repeat(64 * 1024 + extra)}"}`);
  return fc.oneof(
    brokenGroup.map((body) => request("groups: malformed create", "POST", "/v1/groups", admin, { headers: json, body: bodyOf(body) })),
    fc.oneof(fc.constantFrom("{name", "", "[1,"), oversizedJson).map((body) => request("groups: bad JSON or too large", "POST", "/v1/groups", admin, { headers: json, body })),
    nonUtf8Bytes.map((body) => request("groups: body not UTF-8", "POST", "/v1/groups", admin, { headers: json, body })),
    fc.tuple(badGroupName, fc.constantFrom("GET", "DELETE")).map(([name, verb]) => request("groups: no such group", verb, `/v1/groups/${name}`, admin)),
    fc.constant(request("groups: delete the default group", "DELETE", "/v1/groups/default", admin)),
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(["GET", "/v1/groups"], ["POST", "/v1/groups"], ["GET", "/v1/groups/default"], ["DELETE", "/v1/groups/default"], ["GET", "/v1/health"], ["GET", "/v1/faults"], ["POST", "/v1/faults"], ["DELETE", "/v1/faults"], ["POST", `/v1/tenants/${fuzzTenant}/tokens`]), fc.oneof(badAuthorization(credentials), fc.constant(`Bearer ${credentials.tenant}`)))
      .map(([[verb, path], authorization]) => request("admin routes: not the admin", verb!, path!, authorization, verb === "POST" ? { headers: json, body: "{}" } : {})) },
    brokenTransfer.map((body) => request("leaders: malformed transfer", "POST", "/v1/groups/default/transfer-leader", admin, { headers: json, body: bodyOf(body) })),
    badGroupName.map((name) => request("leaders: no such group", "POST", `/v1/groups/${name}/transfer-leader`, admin, { headers: json, body: "{}" })),
    badTenantName.map((tenant) => request("tokens: malformed tenant", "POST", `/v1/tenants/${tenant}/tokens`, admin)),
    brokenFault.map((body) => request("faults: malformed fault", "POST", "/v1/faults", admin, { headers: json, body: bodyOf(body) })),
    fc.oneof(nonUtf8Bytes, fc.constantFrom("", "{kind", `{"kind":"heal","group":"${"g".repeat(70_000)}"}`)).map((body) => request("faults: bad body", "POST", "/v1/faults", admin, { headers: json, body })),
    fc.tuple(fc.constantFrom("/v1/kv/fuzz%2Fa", "/v1/kv", "/v1/batch", "/v1/groups", "/v1/groups/default", "/v1/health", "/v1/health/live", "/v1/faults", `/v1/tenants/${fuzzTenant}/tokens`, "/"), fc.constantFrom("PATCH", "OPTIONS", "POST", "PUT"))
      .filter(([path, verb]) => !(verb === "POST" && ["/v1/batch", "/v1/groups", "/v1/faults", `/v1/tenants/${fuzzTenant}/tokens`].includes(path)) && !(verb === "PUT" && path.startsWith("/v1/kv/")))
      .map(([path, verb]) => request("any route: wrong method", verb, path, admin)),
    fc.tuple(fc.oneof(word.filter((text) => !["kv", "batch", "groups", "tenants", "faults", "health"].includes(text)).map((text) => `/v1/${text}`), fc.constantFrom("/internal/raft", "/internal/write", "/internal/crash", "/v2/kv/a", "/v1", "/v1/health/dead", "/v1/tenants/fuzz")), fc.constantFrom("GET", "POST", "PUT", "DELETE"))
      .map(([path, verb]) => request("unknown route", verb, path, admin, verb === "GET" ? {} : { body: "{}" })),
  );
}

/** Every family, weighted towards the data routes; oversized uploads are rare. */
export function refusedRequests(credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(
    fc.oneof(
      { weight: 6, arbitrary: keyRequests(credentials) },
      { weight: 3, arbitrary: scanRequests(credentials) },
      { weight: 4, arbitrary: batchRequests(credentials) },
      { weight: 5, arbitrary: adminRequests(credentials) },
      { weight: 1, arbitrary: oversizedRequests(credentials) },
    ),
    noise,
  ).map(([fuzzed, extra]) => ({ ...fuzzed, headers: { ...extra, ...fuzzed.headers } }));
}
