/** The dashboard's stylesheet, inlined into the page (no CDN, works offline). */
export const dashboardStyle = String.raw`
:root {
  --bg: #0b0f17; --panel: #121826; --panel-2: #171f30; --line: #243049; --text: #e6ebf5; --muted: #8b97ad;
  --good: #34d399; --warn: #fbbf24; --bad: #f87171; --accent: #60a5fa;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 var(--sans); }
[hidden] { display: none !important; }
button, input, select { font: inherit; color: inherit; }
button { cursor: pointer; }
.gate { min-height: 100vh; display: grid; place-items: center; background: radial-gradient(1200px 600px at 30% 0%, #1b2a4a 0%, var(--bg) 60%); }
.gate form { width: 360px; padding: 28px; background: var(--panel); border: 1px solid var(--line); border-radius: 14px; box-shadow: 0 20px 60px #0008; }
.gate h1 { margin: 0 0 4px; font-size: 20px; }
.gate p { margin: 0 0 18px; color: var(--muted); font-size: 13px; }
.gate .error { color: var(--bad); min-height: 1.4em; margin: 10px 0 0; }
.field { display: grid; gap: 6px; margin-bottom: 12px; }
.field label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; }
.field input, .field select { width: 100%; padding: 9px 11px; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; outline: none; }
.field input:focus, .field select:focus { border-color: var(--accent); box-shadow: 0 0 0 3px #60a5fa33; }
.row { display: flex; gap: 10px; }
.row > * { flex: 1; }
.primary { width: 100%; padding: 10px; border: 0; border-radius: 8px; background: linear-gradient(180deg, #5b9cf8, #3b82f6); color: white; font-weight: 600; }
.primary:disabled { opacity: .6; cursor: progress; }
.ghost { padding: 6px 12px; background: transparent; border: 1px solid var(--line); border-radius: 8px; color: var(--muted); }
.ghost:hover { color: var(--text); border-color: #3a4a6a; }
.danger { padding: 4px 10px; background: transparent; border: 1px solid #7f1d1d; border-radius: 7px; color: #fca5a5; font-size: 12px; }
.danger.confirm { background: #b91c1c; border-color: #b91c1c; color: white; }
header.top { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 22px; padding: 12px 24px; background: #0b0f17e6; backdrop-filter: blur(8px); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 17px; letter-spacing: .01em; }
.brand svg { width: 26px; height: 26px; }
.pill { display: inline-flex; align-items: center; gap: 7px; padding: 4px 11px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid; }
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; box-shadow: 0 0 10px currentColor; }
.pill.good { color: var(--good); border-color: #065f46; background: #064e3b55; }
.pill.bad { color: var(--bad); border-color: #7f1d1d; background: #7f1d1d44; }
.pill.idle { color: var(--muted); border-color: var(--line); }
.stats { display: flex; gap: 22px; margin-left: 8px; }
.stat { display: grid; line-height: 1.15; }
.stat b { font: 600 18px var(--mono); }
.stat span { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .06em; }
.controls { margin-left: auto; display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 12px; }
.controls select { padding: 5px 8px; background: var(--panel); border: 1px solid var(--line); border-radius: 7px; }
main { padding: 20px 24px 40px; display: grid; gap: 18px; max-width: 1500px; margin: 0 auto; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 14px; padding: 16px 18px; }
.panel h2 { margin: 0 0 12px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .08em; display: flex; justify-content: space-between; }
.keyspace { display: flex; height: 54px; border-radius: 10px; overflow: hidden; border: 1px solid var(--line); background: var(--bg); }
.segment { flex: 1 1 0; min-width: 36px; display: flex; flex-direction: column; justify-content: center; padding: 0 10px; border-right: 2px solid var(--bg); cursor: pointer; overflow: hidden; white-space: nowrap; transition: filter .15s; }
.segment:last-child { border-right: 0; }
.segment:hover { filter: brightness(1.2); }
.segment b { font-size: 13px; color: #0b0f17; overflow: hidden; text-overflow: ellipsis; }
.segment small { font: 11px var(--mono); color: #0b0f17b0; overflow: hidden; text-overflow: ellipsis; }
.segment.default { background: repeating-linear-gradient(135deg, #1e293b, #1e293b 8px, #243247 8px, #243247 16px); }
.segment.default b, .segment.default small { color: var(--muted); }
.axis { display: flex; margin-top: 6px; font: 11px var(--mono); color: var(--muted); }
.axis span { flex: 1 1 0; min-width: 36px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-left: 2px; border-left: 1px solid var(--line); }
.tenants { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; align-items: center; color: var(--muted); font-size: 12px; }
.chip { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; background: var(--panel-2); border: 1px solid var(--line); color: var(--text); font-size: 12px; }
.swatch { width: 10px; height: 10px; border-radius: 3px; display: inline-block; }
.layout { display: grid; grid-template-columns: 1fr 290px; gap: 18px; align-items: start; }
.groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(510px, 1fr)); gap: 14px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 14px; overflow: hidden; }
.card.unhealthy { border-color: #7f1d1d; box-shadow: 0 0 0 1px #7f1d1d55; }
.card-head { display: flex; align-items: center; gap: 10px; padding: 12px 14px 8px; border-top: 4px solid var(--group-color); }
.card-head h3 { margin: 0; font-size: 15px; white-space: nowrap; }
.card-head .owns { color: var(--muted); font: 12px var(--mono); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card-head .right { margin-left: auto; display: flex; gap: 8px; align-items: center; }
.meta { display: flex; gap: 16px; padding: 0 14px 10px; color: var(--muted); font-size: 12px; align-items: center; }
.meta b { color: var(--text); font: 600 12px var(--mono); }
.meta svg { margin-left: auto; }
table.replicas { width: 100%; border-collapse: collapse; font-size: 12.5px; }
table.replicas th { text-align: left; font-weight: 500; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .05em; padding: 6px 7px; white-space: nowrap; border-top: 1px solid var(--line); background: var(--panel-2); }
table.replicas td { padding: 7px 7px; border-top: 1px solid var(--line); font-family: var(--mono); white-space: nowrap; }
table.replicas th:first-child, table.replicas td:first-child { padding-left: 14px; }
table.replicas tr.leader td { background: #3b82f614; }
.role { display: inline-flex; align-items: center; gap: 6px; font-family: var(--sans); }
.role.leader { color: var(--warn); font-weight: 600; }
.role.down { color: var(--bad); }
.lead { margin-left: 6px; padding: 0 6px; background: transparent; border: 1px solid var(--line); border-radius: 6px; color: var(--muted); font-size: 11px; }
.lead:hover { color: var(--text); border-color: var(--muted); }
.dot { width: 7px; height: 7px; border-radius: 50%; display: inline-block; background: var(--good); }
.dot.down { background: var(--bad); }
.loc { display: inline-flex; gap: 6px; align-items: center; font-family: var(--sans); }
.loc small { color: var(--muted); font-size: 11px; }
.lag { display: inline-flex; align-items: center; gap: 6px; }
.lag i { display: inline-block; height: 6px; border-radius: 3px; background: var(--good); }
.lag.behind i { background: var(--warn); }
.lag-seconds { color: var(--muted); margin-left: 4px; font-size: 11px; }
.zz { display: inline-block; padding: 1px 8px; border-radius: 999px; background: #312e8155; color: #c7d2fe; font-family: var(--sans); font-size: 11.5px; }
.busy { display: inline-block; padding: 1px 8px; border-radius: 999px; background: #064e3b55; color: #6ee7b7; font-family: var(--sans); font-size: 11.5px; }
.muted { color: var(--muted); }
.empty { padding: 30px; text-align: center; color: var(--muted); border: 1px dashed var(--line); border-radius: 14px; }
.create .seg { display: flex; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 3px; margin-bottom: 12px; }
.create .seg button { flex: 1; padding: 6px; border: 0; background: transparent; border-radius: 6px; color: var(--muted); }
.create .seg button.on { background: var(--panel-2); color: var(--text); box-shadow: inset 0 0 0 1px var(--line); }
.reshape { padding-top: 12px; margin-top: 12px; border-top: 1px solid var(--line); }
.reshape-title { margin-top: 22px !important; }
main > *, .layout > *, .card { min-width: 0; }
.ranges { padding: 0 14px 8px; color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ranges code { font: 12px var(--mono); color: var(--text); }
.pill.auto { background: #78350f55; color: #fcd34d; border-color: #92400e; }
.segment.auto { background-image: repeating-linear-gradient(45deg, transparent, transparent 6px, #ffffff22 6px, #ffffff22 12px); }
.toasts { position: fixed; right: 20px; bottom: 20px; display: grid; gap: 8px; z-index: 10; }
.toast { padding: 10px 14px; border-radius: 10px; background: var(--panel-2); border: 1px solid var(--line); box-shadow: 0 10px 30px #0008; max-width: 380px; }
.toast.good { border-color: #065f46; }
.toast.bad { border-color: #7f1d1d; color: #fecaca; }
@media (max-width: 1000px) { .layout { grid-template-columns: 1fr; } .stats { display: none; } }
`;
