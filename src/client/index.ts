/** The typed edgeraft client: import from here. Runs in Node, Deno, browsers and Workers. */
export { EdgeraftClient, GroupsApi, TenantsApi, versionOfEtag, type CallOptions, type ClientOptions } from "./client.ts";
export { EdgeraftError, EdgeraftNetworkError, EdgeraftProblem, isProblem, type ProblemBody, type ProblemCode } from "./errors.ts";
export { isRetryable, retryDelayMs, retryPolicyDefault, Transport, type RetryPolicy, type TransportOptions } from "./transport.ts";
export type * from "./types.ts";
