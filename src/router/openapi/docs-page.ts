/**
 * GET /docs: a small self-made renderer of /openapi.json (inline style and script, nothing fetched
 * from elsewhere, a few KiB instead of a multi-megabyte UI bundle). It lists the operations by tag
 * with their access, parameters, request body and answers, each schema drawn as compact type text.
 */

const style = String.raw`
:root { --bg: #0b0f17; --panel: #121826; --line: #243049; --text: #e6ebf5; --muted: #8b97ad; --accent: #60a5fa;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; --sans: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.5 var(--sans); }
header { padding: 20px 32px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: baseline; }
header h1 { margin: 0; font-size: 20px; } header span { color: var(--muted); }
main { max-width: 1100px; margin: 0 auto; padding: 16px 32px 64px; }
h2 { text-transform: capitalize; border-bottom: 1px solid var(--line); padding-bottom: 6px; margin-top: 32px; }
details.operation { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; margin: 10px 0; }
details.operation > summary { cursor: pointer; padding: 10px 14px; display: flex; gap: 12px; align-items: center; list-style: none; }
.method { font: 600 12px var(--mono); padding: 3px 8px; border-radius: 6px; min-width: 64px; text-align: center; background: #1e293b; }
.method.get { color: #34d399; } .method.put { color: #fbbf24; } .method.post { color: #60a5fa; } .method.delete { color: #f87171; }
.path { font-family: var(--mono); } .summary { color: var(--muted); margin-left: auto; text-align: right; }
.access { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 999px; padding: 1px 8px; }
.body { padding: 4px 16px 14px; border-top: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; } code, pre { font-family: var(--mono); font-size: 12px; }
pre { white-space: pre-wrap; margin: 0; color: #c7d2fe; } h4 { margin: 12px 0 4px; color: var(--muted); font-weight: 500; }
#error { color: #f87171; }
`;

const script = String.raw`
"use strict";
const element = (tag, attributes, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
function resolve(document, schema) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) schema = document.components.schemas[schema.$ref.split("/").pop()];
  return schema ?? {};
}
/** A schema as compact type text, like { name: string, replicas?: integer 1..9 }. */
function typeText(document, schema, depth) {
  if (schema && schema.$ref && schema.$ref.endsWith("/Problem")) return "Problem { type, title, status, detail, code } (RFC 9457; code as named on the left)";
  schema = resolve(document, schema);
  const indent = "  ".repeat(depth);
  if (schema.oneOf || schema.anyOf) return (schema.oneOf ?? schema.anyOf).map((part) => typeText(document, part, depth)).join("\n" + indent + "| ");
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (schema.type === "array") return "[" + typeText(document, schema.items, depth) + "]" + bounds(schema.minItems, schema.maxItems, " items");
  if (schema.type === "object" || schema.properties) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties ?? {}).map(([name, field]) =>
      indent + "  " + name + (required.has(name) ? "" : "?") + ": " + typeText(document, field, depth + 1));
    if (schema.additionalProperties && typeof schema.additionalProperties === "object" && Object.keys(schema.additionalProperties).length > 0) fields.push(indent + "  ...");
    return fields.length === 0 ? "object" : "{\n" + fields.join(",\n") + "\n" + indent + "}";
  }
  let text = schema.type ?? "any";
  if (schema.pattern) text += " /" + schema.pattern + "/";
  text += bounds(schema.minimum, schema.maximum, "");
  if (schema.description) text += "  (" + schema.description + ")";
  return text;
}
function bounds(low, high, unit) {
  if (low === undefined && high === undefined) return "";
  return " " + (low ?? "") + ".." + (high ?? "") + unit;
}
function operationView(document, path, method, operation) {
  const access = operation.security && operation.security.length === 0 ? "no token" : "bearer token";
  const body = element("div", { class: "body" });
  if (operation.description) body.append(element("p", {}, operation.description));
  const parameters = operation.parameters ?? [];
  if (parameters.length > 0) {
    const rows = parameters.map((parameter) => element("tr", {}, element("td", {}, element("code", {}, parameter.name)), element("td", {}, parameter.in),
      element("td", {}, parameter.required ? "required" : "optional"), element("td", {}, element("pre", {}, typeText(document, parameter.schema, 0)))));
    body.append(element("h4", {}, "Parameters"), element("table", {}, element("tr", {}, ...["name", "in", "", "schema"].map((name) => element("th", {}, name))), ...rows));
  }
  for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
    body.append(element("h4", {}, "Request body (" + type + ")"), element("pre", {}, typeText(document, media.schema, 0)));
  }
  const answers = Object.entries(operation.responses ?? {}).map(([status, answer]) => element("tr", {}, element("td", {}, element("code", {}, status)),
    element("td", {}, answer.description ?? ""), element("td", {}, ...Object.entries(answer.content ?? {}).map(([type, media]) =>
      element("div", {}, element("code", {}, type), element("pre", {}, typeText(document, media.schema, 0)))))));
  body.append(element("h4", {}, "Answers"), element("table", {}, ...answers));
  return element("details", { class: "operation", "data-method": method.toUpperCase(), "data-path": path },
    element("summary", {}, element("span", { class: "method " + method }, method.toUpperCase()), element("span", { class: "path" }, path),
      element("span", { class: "access" }, access), element("span", { class: "summary" }, operation.summary ?? "")), body);
}
async function main() {
  const response = await fetch("/openapi.json");
  if (!response.ok) throw new Error("GET /openapi.json answered " + response.status);
  const document = await response.json();
  window.apiDocument = document;
  const title = globalThis.document.getElementById("title");
  title.textContent = document.info.title;
  globalThis.document.getElementById("version").textContent = "OpenAPI " + document.openapi + " · API " + document.info.version;
  const byTag = new Map();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const tag = (operation.tags ?? ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationView(document, path, method, operation));
    }
  }
  const main = globalThis.document.getElementById("operations");
  for (const [tag, views] of byTag) main.append(element("section", { "data-tag": tag }, element("h2", {}, tag), ...views));
  globalThis.document.body.dataset.ready = "true";
}
main().catch((error) => { document.getElementById("error").textContent = String(error); });
`;

/** The whole page, as served by GET /docs. */
export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeraft API</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header><h1 id="title">edgeraft API</h1><span id="version"></span><a href="/openapi.json" style="color: var(--accent); margin-left: auto">openapi.json</a></header>
<main><p id="error" role="alert"></p><div id="operations"></div></main>
<script>${script}</script>
</body>
</html>
`;
