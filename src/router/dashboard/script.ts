/**
 * The dashboard's browser script, inlined into the page. Plain ES2020 with no template literals
 * (it lives in one). It asks for the admin token, keeps it in sessionStorage only (gone with the
 * tab), reads GET /v1/groups and GET /v1/health every few seconds, draws the keyspace as a bar
 * cut into ranges coloured by group (any number of ranges per group: `owns` may be a list), each
 * group's replicas, and commit rate from the change in commit index; it creates and removes groups
 * and splits, merges and moves ranges (reshape-script.ts).
 */
import { keyspaceScript } from "./keyspace-script.ts";
import { reshapeScript } from "./reshape-script.ts";

/** The page's whole script: the keyspace drawing, the reshaping forms, then the app (token gate, refresh loop, cards, actions). */
export const dashboardScript = keyspaceScript + reshapeScript + String.raw`
(function () {
  "use strict";
  var tokenKey = "edgeraft.adminToken";
  var state = { token: sessionStorage.getItem(tokenKey) || "", groups: [], health: null, samples: {}, timer: 0,
    intervalMs: 2000, paused: false, confirming: "", createKind: "prefix", lastError: "" };
  var regions = { wnam: "N. America West", enam: "N. America East", sam: "South America", weur: "Europe West",
    eeur: "Europe East", apac: "Asia-Pacific", "apac-ne": "Asia NE", "apac-se": "Asia SE", oc: "Oceania", afr: "Africa", me: "Middle East" };

  function byId(id) { return document.getElementById(id); }
  function h(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "style") node.setAttribute("style", value);
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child !== null && child !== undefined) node.append(child); });
    return node;
  }
  function toast(text, kind) {
    var node = h("div", { class: "toast " + (kind || ""), text: text, role: "status" });
    byId("toasts").append(node);
    setTimeout(function () { node.remove(); }, 4500);
  }

  // A 401 or 403 signs out only when it refused the token the page holds now: an answer to a
  // request sent with an earlier token (a wrong one, still in flight when the right one was
  // entered) says nothing about the current one, and is dropped. The reason names the request.
  function api(method, path, body) {
    var token = state.token;
    var init = { method: method, headers: { authorization: "Bearer " + token }, cache: "no-store" };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
        if (token !== state.token) throw new Error("signed out");
        if (response.status === 401 || response.status === 403) {
          signOut(method + " " + path + " " + response.status + ": " + ((data && data.detail) || "the token was refused"));
          throw new Error("signed out");
        }
        var healthAnswer = path === "/v1/health" && response.status === 503 && data && data.groups;
        if (!response.ok && !healthAnswer) throw new Error(data && data.code ? data.code + ": " + data.detail : "HTTP " + response.status);
        return data;
      });
    });
  }

  function signOut(reason) {
    state.token = "";
    sessionStorage.removeItem(tokenKey);
    clearTimeout(state.timer);
    byId("app").hidden = true;
    byId("gate").hidden = false;
    byId("gate-error").textContent = reason || "";
    byId("token-input").focus();
  }
  function signIn(token) {
    state.token = token;
    sessionStorage.setItem(tokenKey, token);
    byId("gate").hidden = true;
    byId("app").hidden = false;
    refresh();
  }

  function leaderCommit(health) {
    if (!health) return 0;
    var leader = health.replicas.find(function (replica) { return replica.id === health.leader; });
    if (leader && leader.commit !== undefined) return leader.commit;
    return Math.max.apply(null, [0].concat(health.replicas.map(function (replica) { return replica.commit || 0; })));
  }
  function record(now) {
    var total = 0;
    (state.health ? state.health.groups : []).forEach(function (health) {
      var samples = state.samples[health.name] || (state.samples[health.name] = { commit: leaderCommit(health), at: now, rates: [] });
      var commit = leaderCommit(health);
      var seconds = (now - samples.at) / 1000;
      if (seconds > 0.2) {
        samples.rates.push(Math.max(0, commit - samples.commit) / seconds);
        if (samples.rates.length > 40) samples.rates.shift();
        samples.commit = commit;
        samples.at = now;
      }
      total += samples.rates.length ? samples.rates[samples.rates.length - 1] : 0;
    });
    return total;
  }

  // Data requests (key, scan and batch routes) counted by GET /metrics: this isolate's counter, so
  // the rate is exact locally and one isolate's share on Cloudflare. Null when /metrics is absent.
  function dataRequestsTotal() {
    return fetch("/metrics", { headers: { authorization: "Bearer " + state.token }, cache: "no-store" }).then(function (response) {
      if (!response.ok) return null;
      return response.text().then(function (text) {
        var total = 0;
        text.split("\n").forEach(function (line) {
          var match = /^edgeraft_http_requests_total\{.*route="([^"]*)".*\} (\S+)$/.exec(line);
          if (match && (match[1].indexOf("/kv") >= 0 || match[1].indexOf("/batch") >= 0)) total += Number(match[2]);
        });
        return total;
      });
    }).catch(function () { return null; });
  }
  function requestRate(total, now) {
    var previous = state.requests;
    state.requests = total === null ? null : { total: total, at: now };
    if (total === null || !previous || total < previous.total || now - previous.at < 200) return state.requestRate === undefined ? null : state.requestRate;
    state.requestRate = (total - previous.total) / ((now - previous.at) / 1000);
    return state.requestRate;
  }

  function refresh() {
    clearTimeout(state.timer);
    if (!state.token) return;
    Promise.all([api("GET", "/v1/groups"), api("GET", "/v1/health"), dataRequestsTotal()]).then(function (answers) {
      state.groups = answers[0].groups;
      state.health = answers[1];
      state.lastError = "";
      var now = Date.now();
      var rate = record(now);
      var requests = requestRate(answers[2], now);
      byId("stat-requests").textContent = requests === null ? "\u2013" : requests.toFixed(requests < 10 ? 1 : 0);
      render(rate);
    }).catch(function (error) {
      if (error.message === "signed out") return;
      state.lastError = error.message;
      byId("updated").textContent = "update failed: " + error.message;
    }).then(function () {
      if (state.token && !state.paused) state.timer = setTimeout(refresh, state.intervalMs);
    });
  }

  function render(rate) {
    if (rate === undefined) rate = state.lastRate || 0;
    state.lastRate = rate;
    var healthOf = {};
    (state.health ? state.health.groups : []).forEach(function (group) { healthOf[group.name] = group; });
    var unhealthy = state.groups.filter(function (group) { return healthOf[group.name] && !healthOf[group.name].healthy; });
    var status = byId("cluster-status");
    status.className = "pill " + (unhealthy.length ? "bad" : "good");
    status.textContent = unhealthy.length ? unhealthy.length + " group" + (unhealthy.length > 1 ? "s" : "") + " unhealthy" : "healthy";
    byId("stat-groups").textContent = String(state.groups.length);
    byId("stat-replicas").textContent = String(state.groups.reduce(function (sum, group) { return sum + group.replicas.length; }, 0));
    byId("stat-leaders").textContent = state.groups.filter(function (group) { return healthOf[group.name] && healthOf[group.name].leader > 0; }).length + "/" + state.groups.length;
    byId("stat-rate").textContent = rate.toFixed(rate < 10 ? 1 : 0);
    byId("updated").textContent = "updated " + new Date().toLocaleTimeString();
    drawKeyspace(byId("keyspace"), byId("tenants"), state.groups, h);
    drawGroups(healthOf);
    updateReshape(state.groups);
  }

  function sparkline(rates, color) {
    var width = 120, height = 26, ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", width); svg.setAttribute("height", height); svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var max = Math.max.apply(null, [1].concat(rates));
    var points = rates.map(function (rate, index) {
      var x = rates.length < 2 ? width : (index / (rates.length - 1)) * width;
      return x.toFixed(1) + "," + (height - 2 - (rate / max) * (height - 4)).toFixed(1);
    });
    if (points.length === 1) points.unshift("0," + points[0].split(",")[1]);
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" ")); line.setAttribute("fill", "none");
    line.setAttribute("stroke", color); line.setAttribute("stroke-width", "1.6");
    svg.append(line);
    return svg;
  }

  function replicaRow(group, health, replica) {
    var status = health && health.replicas.find(function (candidate) { return candidate.id === replica.id; });
    var isLeader = health && health.leader === replica.id;
    var reachable = status && status.reachable;
    var lag = reachable && status.applied !== undefined ? Math.max(0, leaderCommit(health) - status.applied) : null;
    // Seconds behind the leader's commit as the leader sees it (health reports it; absent when unknown).
    var lagSeconds = status && typeof status.lagSeconds === "number" ? status.lagSeconds : null;
    var role = !reachable ? h("span", { class: "role down", text: "unreachable" })
      : h("span", { class: "role" + (isLeader ? " leader" : ""), text: (isLeader ? "\u2605 " : "") + (status.role || "?") });
    return h("tr", { class: isLeader ? "leader" : "", "data-replica": String(replica.id) }, [
      h("td", {}, [h("span", { class: "dot" + (reachable ? "" : " down") }), document.createTextNode(" " + replica.id)]),
      // On a Deno cluster, the node that runs it instead of the group's locationHint.
      status && typeof status.node === "number" ? h("td", { title: "the node that runs this replica" }, [h("span", { class: "loc", text: "node " + status.node })])
        : h("td", { title: regions[replica.location] || replica.location }, [h("span", { class: "loc", text: replica.location })]),
      h("td", {}, [role, reachable && !isLeader && health.leader > 0 ? leadButton(group.name, replica.id) : null]),
      h("td", { text: reachable ? String(status.commit) : "\u2013" }),
      h("td", { text: reachable ? String(status.applied) : "\u2013" }),
      h("td", {}, [lag === null ? h("span", { class: "muted", text: "\u2013" }) : h("span", { class: "lag" + (lag > 0 ? " behind" : "") }, [
        h("i", { style: "width:" + Math.min(40, 4 + lag * 2) + "px" }), document.createTextNode(String(lag))]),
        lagSeconds === null ? null : h("small", { class: "lag-seconds", title: "seconds behind the leader's commit", text: lagSeconds.toFixed(1) + " s" })]),
      h("td", {}, [reachable && status.quiesced ? h("span", { class: "zz", text: "\u263E quiet" }) : h("span", { class: reachable ? "busy" : "muted", text: reachable ? "active" : "" })]),
    ]);
  }

  function leadButton(name, id) {
    return h("button", { class: "lead", "data-action": "lead", title: "transfer the leadership of " + name + " to replica " + id, text: "lead", onclick: function (event) {
      event.target.disabled = true;
      event.target.textContent = "transferring\u2026";
      api("POST", "/v1/groups/" + encodeURIComponent(name) + "/transfer-leader", { to: id }).then(function (moved) {
        toast(moved.transferred ? "Replica " + moved.leader + " leads " + name + " (was " + moved.previous + ")" : "Replica " + moved.leader + " leads " + name + " already", "good");
        refresh();
      }).catch(function (error) {
        if (error.message !== "signed out") toast("Could not transfer the leadership of " + name + ": " + error.message, "bad");
        refresh();
      });
    } });
  }

  function removeButton(name) {
    if (name === "default") return null;
    var confirming = state.confirming === name;
    return h("button", { class: "danger" + (confirming ? " confirm" : ""), "data-action": "remove", text: confirming ? "Confirm remove" : "Remove", onclick: function () {
      if (state.confirming !== name) { state.confirming = name; render(); setTimeout(function () { if (state.confirming === name) { state.confirming = ""; } }, 5000); return; }
      state.confirming = "";
      api("DELETE", "/v1/groups/" + encodeURIComponent(name)).then(function () { toast("Removed group " + name, "good"); refresh(); })
        .catch(function (error) { if (error.message !== "signed out") toast("Could not remove " + name + ": " + error.message, "bad"); });
    } });
  }

  function drawGroups(healthOf) {
    var container = byId("groups");
    container.replaceChildren();
    var ordered = orderGroups(state.groups);
    if (!ordered.length) container.append(h("div", { class: "empty", text: "No groups yet." }));
    ordered.forEach(function (group) {
      var health = healthOf[group.name];
      var color = colorOf(group.name);
      var samples = state.samples[group.name];
      var rates = samples ? samples.rates : [];
      var latest = rates.length ? rates[rates.length - 1] : 0;
      var quiet = health ? health.replicas.filter(function (replica) { return replica.quiesced; }).length : 0;
      container.append(h("article", { class: "card" + (health && !health.healthy ? " unhealthy" : ""), "data-group": group.name, style: "--group-color:" + color }, [
        h("div", { class: "card-head" }, [
          h("span", { class: "swatch", style: "background:" + color }),
          h("h3", { text: group.name }),
          h("span", { class: "owns", text: describeOwns(group.owns) }),
          group.auto === true ? h("span", { class: "pill auto", title: "made by an automatic split", text: "auto" }) : null,
          h("div", { class: "right" }, [
            h("span", { class: "pill " + (!health ? "idle" : health.healthy ? "good" : "bad"), text: !health ? group.state : health.healthy ? "healthy" : "unhealthy" }),
            removeButton(group.name),
          ]),
        ]),
        h("div", { class: "ranges", title: "serves " + describeRanges(group.ranges) }, [document.createTextNode("serves "), h("code", { text: describeRanges(group.ranges) })]),
        h("div", { class: "meta" }, [
          h("span", {}, [document.createTextNode("term "), h("b", { text: health ? String(health.term) : "\u2013" })]),
          h("span", {}, [document.createTextNode("commit "), h("b", { text: String(leaderCommit(health)) })]),
          h("span", {}, [document.createTextNode("quiesced "), h("b", { text: quiet + "/" + group.replicas.length })]),
          h("span", {}, [document.createTextNode("commits/s "), h("b", { text: latest.toFixed(latest < 10 ? 1 : 0) })]),
          sparkline(rates.length ? rates : [0], color),
        ]),
        h("table", { class: "replicas" }, [
          h("thead", {}, [h("tr", {}, ["replica", "location", "role", "commit", "applied", "lag", "state"].map(function (title) { return h("th", { text: title }); }))]),
          h("tbody", {}, group.replicas.map(function (replica) { return replicaRow(group, health, replica); })),
        ]),
      ]));
    });
  }

  function setCreateKind(kind) {
    state.createKind = kind;
    byId("kind-prefix").className = kind === "prefix" ? "on" : "";
    byId("kind-range").className = kind === "range" ? "on" : "";
    byId("prefix-fields").hidden = kind !== "prefix";
    byId("range-fields").hidden = kind !== "range";
  }

  function createGroup(event) {
    event.preventDefault();
    var spec = { name: byId("create-name").value.trim(), replicas: Number(byId("create-replicas").value) };
    if (state.createKind === "prefix") spec.prefix = byId("create-prefix").value;
    else { spec.start = byId("create-start").value; if (byId("create-end").value) spec.end = byId("create-end").value; }
    var locations = byId("create-locations").value.split(",").map(function (location) { return location.trim(); }).filter(Boolean);
    if (locations.length) spec.locations = locations;
    var button = byId("create-submit");
    button.disabled = true;
    api("POST", "/v1/groups", spec).then(function (created) {
      toast("Created group " + created.name + " (" + created.replicas.length + " replicas)", "good");
      byId("create-form").reset();
      refresh();
    }).catch(function (error) {
      if (error.message !== "signed out") toast("Could not create " + (spec.name || "the group") + ": " + error.message, "bad");
    }).then(function () { button.disabled = false; });
  }

  byId("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = byId("token-input").value.trim();
    if (token) { byId("token-input").value = ""; signIn(token); }
  });
  byId("sign-out").addEventListener("click", function () { signOut("signed out"); });
  byId("interval").addEventListener("change", function (event) { state.intervalMs = Number(event.target.value); refresh(); });
  byId("pause").addEventListener("click", function () {
    state.paused = !state.paused;
    byId("pause").textContent = state.paused ? "Resume" : "Pause";
    if (!state.paused) refresh(); else clearTimeout(state.timer);
  });
  byId("kind-prefix").addEventListener("click", function () { setCreateKind("prefix"); });
  byId("kind-range").addEventListener("click", function () { setCreateKind("range"); });
  byId("create-form").addEventListener("submit", createGroup);
  setupReshape({ api: api, toast: toast, refresh: refresh, groups: function () { return state.groups; } });
  if (state.token) signIn(state.token); else signOut("");
})();
`;
