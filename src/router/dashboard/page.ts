/**
 * The dashboard page: one self-contained HTML document (inline style and script, an inline SVG
 * icon, nothing fetched from elsewhere) so it works offline and from any host that serves the app.
 */
import { dashboardScript } from "./script.ts";
import { dashboardStyle } from "./style.ts";

/** The edgeraft mark (three replicas in a triangle); `id` keeps each copy's gradient distinct. */
function logo(id: string): string {
  return `<svg viewBox="0 0 32 32" aria-hidden="true"><defs><linearGradient id="${id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#60a5fa"/><stop offset="1" stop-color="#a78bfa"/></linearGradient></defs><rect x="2" y="2" width="28" height="28" rx="8" fill="url(#${id})"/><path d="M11 12L21 12L16 22Z" fill="none" stroke="#0b0f17" stroke-width="1.6"/><circle cx="11" cy="12" r="3" fill="#0b0f17"/><circle cx="21" cy="12" r="3" fill="#0b0f17"/><circle cx="16" cy="22" r="3" fill="#0b0f17"/></svg>`;
}
const icon = `data:image/svg+xml,${encodeURIComponent(logo("icon").replace(' aria-hidden="true"', ' xmlns="http://www.w3.org/2000/svg"'))}`;

/** The whole page, as served by GET /dashboard. */
export const dashboardPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeraft dashboard</title>
<link rel="icon" href="${icon}">
<style>${dashboardStyle}</style>
</head>
<body>
<div id="gate" class="gate" hidden>
  <form id="token-form" autocomplete="off">
    <div class="brand">${logo("logo-gate")}<span>edgeraft</span></div>
    <h1>Cluster dashboard</h1>
    <p>Enter the admin token. It stays in this tab only (sessionStorage) and is sent to this server alone.</p>
    <div class="field"><label for="token-input">Admin token</label><input id="token-input" type="password" required autofocus></div>
    <button class="primary" type="submit">Connect</button>
    <p id="gate-error" class="error" role="alert"></p>
  </form>
</div>
<div id="app" hidden>
  <header class="top">
    <div class="brand">${logo("logo-top")}<span>edgeraft</span></div>
    <span id="cluster-status" class="pill idle">connecting</span>
    <div class="stats">
      <div class="stat"><b id="stat-groups">0</b><span>groups</span></div>
      <div class="stat"><b id="stat-replicas">0</b><span>replicas</span></div>
      <div class="stat"><b id="stat-leaders">0</b><span>with leader</span></div>
      <div class="stat"><b id="stat-rate">0</b><span>commits/s</span></div>
      <div class="stat"><b id="stat-requests">–</b><span>data requests/s</span></div>
    </div>
    <div class="controls">
      <span id="updated"></span>
      <select id="interval" aria-label="refresh interval"><option value="1000">every 1 s</option><option value="2000" selected>every 2 s</option><option value="5000">every 5 s</option><option value="15000">every 15 s</option></select>
      <button id="pause" class="ghost" type="button">Pause</button>
      <button id="sign-out" class="ghost" type="button">Sign out</button>
    </div>
  </header>
  <main>
    <section class="panel">
      <h2><span>Keyspace</span><span class="muted">ranges in key order, coloured by owning group</span></h2>
      <div id="keyspace" class="keyspace"></div>
      <div id="tenants" class="tenants"></div>
    </section>
    <div class="layout">
      <div id="groups" class="groups"></div>
      <aside class="panel create">
        <h2>Create group</h2>
        <form id="create-form" autocomplete="off">
          <div class="field"><label for="create-name">Name</label><input id="create-name" required pattern="[a-z][a-z0-9\\-]{0,62}" title="for example: orders"></div>
          <div class="seg"><button id="kind-prefix" type="button" class="on">Prefix</button><button id="kind-range" type="button">Range</button></div>
          <div id="prefix-fields" class="field"><label for="create-prefix">Prefix</label><input id="create-prefix" title="for example: orders/"></div>
          <div id="range-fields" class="row" hidden>
            <div class="field"><label for="create-start">Start</label><input id="create-start" title="for example: a"></div>
            <div class="field"><label for="create-end">End (optional)</label><input id="create-end" title="for example: m"></div>
          </div>
          <div class="row">
            <div class="field"><label for="create-replicas">Replicas</label><select id="create-replicas"><option>1</option><option selected>3</option><option>5</option></select></div>
            <div class="field"><label for="create-locations">Locations</label><input id="create-locations" title="for example: wnam,weur,apac"></div>
          </div>
          <button id="create-submit" class="primary" type="submit">Create group</button>
        </form>
        <h2 class="reshape-title">Reshape the keyspace</h2>
        <form id="split-form" class="reshape" autocomplete="off">
          <div class="field"><label for="split-group">Split group</label><select id="split-group"></select></div>
          <div class="row">
            <div class="field"><label for="split-at">At key (empty: median)</label><input id="split-at" title="empty: the median key"></div>
            <div class="field"><label for="split-name">New name (optional)</label><input id="split-name" pattern="[a-z][a-z0-9\\-]{0,62}" title="empty: a generated name"></div>
          </div>
          <button id="split-submit" class="primary" type="submit">Split</button>
        </form>
        <form id="merge-form" class="reshape" autocomplete="off">
          <div class="row">
            <div class="field"><label for="merge-group">Merge group</label><select id="merge-group"></select></div>
            <div class="field"><label for="merge-with">With adjacent</label><select id="merge-with"></select></div>
          </div>
          <button id="merge-submit" class="primary" type="submit">Merge</button>
        </form>
        <form id="move-form" class="reshape" autocomplete="off">
          <div class="row">
            <div class="field"><label for="move-start">Move from key</label><input id="move-start" title="for example: orders/5"></div>
            <div class="field"><label for="move-end">To key (optional)</label><input id="move-end" title="empty: to the end of the keyspace"></div>
          </div>
          <div class="field"><label for="move-to">To group</label><select id="move-to"></select></div>
          <button id="move-submit" class="primary" type="submit">Move</button>
        </form>
      </aside>
    </div>
  </main>
</div>
<div id="toasts" class="toasts" aria-live="polite"></div>
<script>${dashboardScript}</script>
</body>
</html>
`;
