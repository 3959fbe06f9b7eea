/**
 * GET /dashboard: the operator's page, served by the app itself. The HTML shell needs no token
 * (it holds no data); every data call it makes carries the admin token the page asks for.
 */
import type { Hono } from "hono";
import { addRoute } from "../route.ts";
import type { Guards } from "../route.ts";
import { dashboardPage } from "./page.ts";
import { bytesSchema } from "../openapi/operation.ts";

/** The page's Content-Security-Policy: nothing from elsewhere, data only from this origin. */
const contentSecurityPolicy = [
  "default-src 'none'", "script-src 'unsafe-inline'", "style-src 'unsafe-inline'", "img-src data:",
  "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join("; ");

/** Registers GET /dashboard. */
export function registerDashboardRoutes(app: Hono, guards: Guards): void {
  addRoute(app, "/dashboard", {
    GET: guards.open(async () => new Response(dashboardPage, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": contentSecurityPolicy,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      },
    })),
  }, { GET: { summary: "The operator's web dashboard (asks for the admin token)", tag: "service", answers: { 200: { description: "A self-contained HTML page.", schema: bytesSchema, contentType: "text/html" } }, problems: [] } });
}
