/** Public surface of the HTTP front door: import from here rather than from its files. */
export { createApp } from "./app.ts";
export type { AppOptions } from "./app.ts";
export { constantTimeEqual } from "./auth.ts";
export type * from "./cluster.ts";
export { problemCatalog, problemTypeBase } from "./problem.ts";
export type { ProblemCode } from "./problem.ts";
