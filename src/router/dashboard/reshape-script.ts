/**
 * The dashboard's reshaping actions, as browser script (plain ES2020, no template literals): split
 * a group at a key or its median, merge a group with an adjacent one, move a key range to a group.
 * The forms are static HTML in page.ts; `updateReshape` refills their group lists on each refresh
 * (keeping what the operator selected), and `setupReshape` sends the admin calls through the
 * page's `api` (which carries the token) and refreshes after each.
 */
/** Browser globals: sharedKeyspaceGroups, adjacentGroups, updateReshape, setupReshape. */
export const reshapeScript = String.raw`
function sharedKeyspaceGroups(groups) {
  return groups.filter(function (group) { return Array.isArray(group.ranges) && !isTenantGroup(group); });
}
function adjacentGroups(groups, name) {
  var shared = sharedKeyspaceGroups(groups);
  var own = shared.find(function (group) { return group.name === name; });
  if (!own) return [];
  var starts = {}, ends = {};
  own.ranges.forEach(function (range) { starts[range.start] = true; if (typeof range.end === "string") ends[range.end] = true; });
  return shared.filter(function (group) {
    return group.name !== name && group.ranges.some(function (range) { return ends[range.start] === true || (typeof range.end === "string" && starts[range.end] === true); });
  }).map(function (group) { return group.name; });
}
function fillSelect(select, names) {
  var current = select.value;
  var same = select.options.length === names.length && names.every(function (name, index) { return select.options[index].value === name; });
  if (!same) {
    select.replaceChildren.apply(select, names.map(function (name) { var option = document.createElement("option"); option.value = name; option.textContent = name; return option; }));
  }
  if (names.indexOf(current) >= 0) select.value = current;
}
function updateReshape(groups) {
  var names = sharedKeyspaceGroups(groups).map(function (group) { return group.name; }).sort();
  fillSelect(document.getElementById("split-group"), names);
  fillSelect(document.getElementById("merge-group"), names);
  fillSelect(document.getElementById("move-to"), names);
  var mergeGroup = document.getElementById("merge-group").value;
  fillSelect(document.getElementById("merge-with"), adjacentGroups(groups, mergeGroup));
  document.getElementById("merge-submit").disabled = !document.getElementById("merge-with").value;
}
function setupReshape(tools) {
  function byId(id) { return document.getElementById(id); }
  function submit(form, button, describe, send) {
    byId(form).addEventListener("submit", function (event) {
      event.preventDefault();
      var what = describe();
      byId(button).disabled = true;
      byId(button).textContent = byId(button).textContent.replace(/^(\w+).*$/, "$1") + "\u2026";
      send().then(function (answer) {
        tools.toast(what.done(answer), "good");
        byId(form).reset();
        tools.refresh();
      }).catch(function (error) {
        if (error.message !== "signed out") tools.toast("Could not " + what.action + ": " + error.message, "bad");
      }).then(function () { byId(button).disabled = false; byId(button).textContent = what.label; updateReshape(tools.groups()); });
    });
  }
  submit("split-form", "split-submit", function () {
    var name = byId("split-group").value;
    return { action: "split " + name, label: "Split", done: function (created) { return "Split " + name + ": " + created.name + " serves " + describeRanges(created.ranges); } };
  }, function () {
    var body = {};
    if (byId("split-at").value) body.at = byId("split-at").value;
    if (byId("split-name").value.trim()) body.name = byId("split-name").value.trim();
    return tools.api("POST", "/v1/groups/" + encodeURIComponent(byId("split-group").value) + "/split", body);
  });
  submit("merge-form", "merge-submit", function () {
    var name = byId("merge-group").value, other = byId("merge-with").value;
    return { action: "merge " + other + " into " + name, label: "Merge", done: function (merged) { return "Merged " + other + " into " + merged.name + ": it serves " + describeRanges(merged.ranges); } };
  }, function () {
    return tools.api("POST", "/v1/groups/" + encodeURIComponent(byId("merge-group").value) + "/merge", { with: byId("merge-with").value });
  });
  submit("move-form", "move-submit", function () {
    var to = byId("move-to").value;
    return { action: "move the range to " + to, label: "Move", done: function (moved) {
      var records = moved.moves.reduce(function (sum, move) { return sum + move.moved; }, 0);
      return "Moved " + moved.moves.length + " range" + (moved.moves.length === 1 ? "" : "s") + " (" + records + " records) to " + to;
    } };
  }, function () {
    var body = { start: byId("move-start").value, to: byId("move-to").value };
    if (byId("move-end").value) body.end = byId("move-end").value;
    return tools.api("POST", "/v1/ranges/move", body);
  });
  byId("merge-group").addEventListener("change", function () { updateReshape(tools.groups()); });
}
`;
