/**
 * The dashboard's keyspace drawing, as browser script (plain ES2020, no template literals). A
 * group's `ranges` (what it serves now, from the range table) are drawn when the server sends
 * them, one segment per range, automatic groups marked; otherwise its `owns` (one ownership or a
 * list). The shared keyspace is cut at every bound any ownership names; each piece belongs
 * to the narrowest ownership covering it (a prefix or range group), else to the default group.
 * Pieces are drawn with equal widths (an ordinal scale: the API says nothing of key counts).
 * The functions are globals so the browser test can call `keyspaceSegments` directly.
 */
/** Browser globals: keyspaceSegments, colorOf, describeOwns, describeRanges, orderGroups, drawKeyspace. */
export const keyspaceScript = String.raw`
function ownershipsOf(owns) { return Array.isArray(owns) ? owns : [owns]; }
function prefixEnd(prefix) {
  var rest = prefix;
  while (rest.length) {
    var last = rest.charCodeAt(rest.length - 1);
    if (last < 0xffff) return rest.slice(0, -1) + String.fromCharCode(last + 1);
    rest = rest.slice(0, -1);
  }
  return null;
}
function compareEnds(left, right) {
  if (left === right) return 0;
  if (left === null) return 1;
  if (right === null) return -1;
  return left < right ? -1 : 1;
}
function isTenantGroup(group) { return ownershipsOf(group.owns).some(function (owns) { return owns && typeof owns.tenant === "string"; }); }
function keyspaceIntervals(groups) {
  var intervals = [];
  groups.forEach(function (group) {
    if (Array.isArray(group.ranges) && !isTenantGroup(group)) {
      var prefixes = ownershipsOf(group.owns).filter(function (owns) { return owns && typeof owns.prefix === "string"; }).map(function (owns) { return owns.prefix; });
      prefixes.forEach(function (prefix) { var end = prefixEnd(prefix); if (end !== null) prefixOfEnd[end] = prefix; });
      group.ranges.forEach(function (range) {
        var end = typeof range.end === "string" ? range.end : null;
        var whole = prefixes.find(function (prefix) { return prefix === range.start && prefixEnd(prefix) === end; });
        intervals.push({ group: group.name, start: range.start, end: end, label: whole === undefined ? null : whole + "*" });
      });
      return;
    }
    ownershipsOf(group.owns).forEach(function (owns) {
      if (!owns) return;
      if (typeof owns.prefix === "string") {
        var end = prefixEnd(owns.prefix);
        if (end !== null) prefixOfEnd[end] = owns.prefix;
        intervals.push({ group: group.name, start: owns.prefix, end: end, label: owns.prefix + "*" });
      }
      else if (typeof owns.start === "string") intervals.push({ group: group.name, start: owns.start, end: typeof owns.end === "string" ? owns.end : null, label: null });
    });
  });
  return intervals;
}
var prefixOfEnd = {};
function boundText(bound, isEnd) {
  if (bound === null) return "end";
  if (Object.prototype.hasOwnProperty.call(prefixOfEnd, bound)) return "after " + JSON.stringify(prefixOfEnd[bound]) + "*";
  if (bound === "" && !isEnd) return "start";
  return JSON.stringify(bound);
}
function keyspaceSegments(groups) {
  prefixOfEnd = {};
  var intervals = keyspaceIntervals(groups);
  var fallbackGroup = groups.find(function (group) { return ownershipsOf(group.owns).some(function (owns) { return owns && owns.default === true; }); });
  var fallback = fallbackGroup ? fallbackGroup.name : null;
  var bounds = [""];
  intervals.forEach(function (interval) { bounds.push(interval.start); if (interval.end !== null) bounds.push(interval.end); });
  bounds = bounds.filter(function (bound, index) { return bounds.indexOf(bound) === index; }).sort(function (left, right) { return left < right ? -1 : left > right ? 1 : 0; });
  var segments = [];
  bounds.forEach(function (start, index) {
    var end = index + 1 < bounds.length ? bounds[index + 1] : null;
    var best = null;
    intervals.forEach(function (interval) {
      var covers = interval.start <= start && compareEnds(end, interval.end) <= 0;
      if (covers && (best === null || interval.start > best.start || (interval.start === best.start && compareEnds(interval.end, best.end) < 0))) best = interval;
    });
    var owner = best ? best.group : fallback;
    var last = segments[segments.length - 1];
    if (last && last.group === owner) { last.end = end; last.label = null; }
    else segments.push({ group: owner, start: start, end: end, label: best && best.start === start && best.end === end ? best.label : null });
  });
  return segments.map(function (segment) {
    return { group: segment.group, start: segment.start, end: segment.end,
      text: segment.label || "[" + boundText(segment.start, false) + ", " + boundText(segment.end, true) + ")" };
  });
}
function colorOf(name) {
  if (name === "default") return "#64748b";
  var hash = 0;
  for (var index = 0; index < name.length; index++) hash = (hash * 31 + name.charCodeAt(index)) >>> 0;
  return "hsl(" + (hash % 360) + ", 72%, 64%)";
}
function describeOwns(owns) {
  return ownershipsOf(owns).map(function (one) {
    if (!one) return "?";
    if (typeof one.prefix === "string") return "prefix " + JSON.stringify(one.prefix);
    if (typeof one.tenant === "string") return "tenant " + one.tenant;
    if (typeof one.start === "string") return "[" + boundText(one.start, false) + ", " + boundText(typeof one.end === "string" ? one.end : null, true) + ")";
    if (one.default === true) return "every other key";
    return JSON.stringify(one);
  }).join(", ");
}
function describeRanges(ranges) {
  if (!Array.isArray(ranges)) return "";
  if (!ranges.length) return "serves nothing";
  return ranges.map(function (range) { return "[" + boundText(range.start, false) + ", " + boundText(typeof range.end === "string" ? range.end : null, true) + ")"; }).join(" ");
}
function orderGroups(groups) {
  function rank(group) {
    var first = ownershipsOf(group.owns)[0] || {};
    if (first.default === true) return [0, ""];
    if (typeof first.tenant === "string") return [2, first.tenant];
    return [1, typeof first.prefix === "string" ? first.prefix : typeof first.start === "string" ? first.start : group.name];
  }
  return groups.slice().sort(function (left, right) {
    var a = rank(left), b = rank(right);
    return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || (left.name < right.name ? -1 : 1);
  });
}
function drawKeyspace(bar, tenantsRow, groups, h) {
  bar.replaceChildren();
  var automatic = {};
  groups.forEach(function (group) { if (group.auto === true) automatic[group.name] = true; });
  keyspaceSegments(groups).forEach(function (segment) {
    var name = segment.group === null ? "unowned" : segment.group;
    var auto = automatic[name] === true;
    var title = name + (auto ? " (made by an automatic split)" : "") + " serves " + segment.text;
    bar.append(h("div", { class: "segment" + (segment.group === "default" || segment.group === null ? " default" : "") + (auto ? " auto" : ""), "data-group": name, "data-auto": auto ? "true" : null, title: title,
      style: segment.group === "default" || segment.group === null ? "" : "background:" + colorOf(name),
      onclick: function () { var card = document.querySelector("article[data-group=\"" + CSS.escape(name) + "\"]"); if (card) card.scrollIntoView({ behavior: "smooth", block: "center" }); } },
      [h("b", { text: (auto ? "\u2699 " : "") + name }), h("small", { text: segment.text })]));
  });
  tenantsRow.replaceChildren();
  var tenants = groups.filter(isTenantGroup);
  if (!tenants.length) return;
  tenantsRow.append(document.createTextNode("Tenant keyspaces"));
  tenants.forEach(function (group) {
    tenantsRow.append(h("span", { class: "chip", "data-tenant-group": group.name }, [h("span", { class: "swatch", style: "background:" + colorOf(group.name) }), document.createTextNode(describeOwns(group.owns).replace("tenant ", ""))]));
  });
}
`;
