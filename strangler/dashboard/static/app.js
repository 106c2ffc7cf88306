// The migration dashboard's page: one document from /api/overview, then changes from
// /events (server-sent events). Everything is written with textContent: nothing the
// document holds is ever parsed as HTML. No framework, no build step.
"use strict";

(function () {
  const POLL_MS = 2000;
  let doc = null;
  let source = null;
  let pollTimer = null;
  const routeRows = new Map(); // route name -> {tr, cells: {field: td}, json}
  let routeOrder = "";

  // ---- small helpers -------------------------------------------------------------------
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value !== undefined && value !== null) node.setAttribute(key, String(value));
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function $(selector) { return document.querySelector(selector); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function pct(value, digits) {
    if (value === null || value === undefined) return "–";
    return (value * 100).toFixed(digits === undefined ? 1 : digits) + "%";
  }
  function num(value, digits) {
    if (value === null || value === undefined) return "–";
    return Number(value).toFixed(digits === undefined ? 1 : digits);
  }
  function ms(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    return (seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0) + " ms";
  }
  function when(epoch) {
    if (!epoch) return "–";
    return new Date(epoch * 1000).toLocaleString();
  }
  function brief(value) {
    if (value === null || value === undefined) return "∅";
    if (typeof value === "object") {
      const text = JSON.stringify(value);
      return text.length > 160 ? text.slice(0, 157) + "…" : text;
    }
    return String(value);
  }
  function bySide(sides, fn) {
    if (!sides) return "–";
    const parts = Object.keys(sides).map((side) => side + " " + fn(sides[side]));
    return parts.length ? parts.join(" · ") : "–";
  }

  // ---- status line ---------------------------------------------------------------------
  function setConnection(state) {
    const line = $("#status-line");
    line.setAttribute("data-connection", state);
    const text = { live: "live", polling: "polling (live stream reconnecting)", offline: "offline" };
    $("#connection-text").textContent = text[state] || state;
  }
  function setUpdated(takenAt) {
    if (takenAt === undefined || takenAt === null) return;
    const line = $("#status-line");
    line.setAttribute("data-updated-at", String(takenAt));
    $("#updated-text").textContent = "updated " + new Date(takenAt * 1000).toLocaleTimeString();
  }

  // ---- headline ------------------------------------------------------------------------
  function headlineCard(title, part) {
    const card = el("div", { class: "card" });
    card.appendChild(el("h3", null, title));
    const routes = part.routes === null ? "unknown" : part.routes;
    card.appendChild(el("p", { class: "big", "data-share": "routes" }, pct(part.routes_share, 0)));
    card.appendChild(el("p", null, "of " + routes + " routes served by services"));
    const traffic = part.traffic;
    card.appendChild(el("p", { class: "big", "data-share": "traffic" },
      traffic ? pct(traffic.services_share, 0) : "–"));
    card.appendChild(el("p", null, traffic
      ? "of " + traffic.requests + " requests since the proxy started" +
        (part.rps !== undefined && part.rps !== null ? " (" + num(part.rps, 1) + " req/s now)" : "")
      : "traffic unknown"));
    return card;
  }
  function renderHeadline() {
    const body = $("#headline .body");
    clear(body);
    const h = doc.headline || {};
    if (h.overall) body.appendChild(headlineCard("Overall", h.overall));
    for (const [name, part] of Object.entries(h.plans || {})) {
      const card = headlineCard("Plan " + name, part);
      card.setAttribute("data-headline-plan", name);
      body.appendChild(card);
    }
  }

  function renderUnknown() {
    const section = $("#unknown");
    const body = $("#unknown .body");
    clear(body);
    const entries = Object.entries(doc.unknown || {});
    section.hidden = entries.length === 0;
    for (const [part, why] of entries) {
      body.appendChild(el("li", { "data-unknown": part }, part + ": " + why));
    }
  }

  // ---- routes --------------------------------------------------------------------------
  const ROUTE_FIELDS = ["mode", "write_owner", "canary", "rps", "error_rate", "p99",
    "fallbacks", "breaker", "hold"];
  function routeCells(row) {
    const sides = (row.read_sides || []).join("+");
    const breakers = row.breakers || {};
    const open = Object.entries(breakers).filter(([, state]) => state !== "closed");
    return {
      mode: (row.mode || "?") + (sides ? " (" + sides + ")" : ""),
      write_owner: row.write_owner || "–",
      canary: row.mode === "canary" || row.canary_percent
        ? num(row.canary_percent || 0, 0) + "%" : "–",
      rps: row.rps === null || row.rps === undefined ? "–" : num(row.rps, 2),
      error_rate: bySide(row.sides, (s) => pct(s.error_rate, 2)),
      p99: bySide(row.sides, (s) => ms(s.p99_seconds)),
      fallbacks: row.fallbacks === null || row.fallbacks === undefined ? "–" : String(row.fallbacks),
      breaker: row.breakers === null || row.breakers === undefined ? "unknown"
        : open.length ? open.map(([u, s]) => u + " " + s).join(", ") : "closed",
      hold: row.held ? "held until " + new Date(row.hold_until * 1000).toLocaleTimeString() : "–",
    };
  }
  function makeRouteRow(row) {
    const tr = el("tr", { "data-route": row.name });
    tr.appendChild(el("th", { scope: "row" }, row.name));
    const cells = {};
    for (const field of ROUTE_FIELDS) {
      cells[field] = el("td", { "data-field": field });
      tr.appendChild(cells[field]);
    }
    const entry = { tr, cells, json: "" };
    updateRouteRow(entry, row);
    return entry;
  }
  function updateRouteRow(entry, row) {
    const json = JSON.stringify(row);
    if (json === entry.json) return;
    entry.json = json;
    const texts = routeCells(row);
    for (const field of ROUTE_FIELDS) {
      const cell = entry.cells[field];
      if (cell.textContent !== texts[field]) cell.textContent = texts[field];
    }
    entry.tr.classList.toggle("held", Boolean(row.held));
    entry.tr.classList.toggle("breaker-open", texts.breaker !== "closed" && texts.breaker !== "unknown");
    entry.tr.setAttribute("data-mode", row.mode || "");
  }
  function renderRoutes() {
    const rows = doc.routes;
    const note = $("#routes .note");
    const tbody = $("#routes tbody");
    if (rows === null || rows === undefined) {
      note.textContent = "Routes unknown: " + ((doc.unknown || {}).routes || "the proxy did not answer");
      clear(tbody);
      routeRows.clear();
      routeOrder = "";
      return;
    }
    note.textContent = rows.length + " routes; req/s and error rates over the last minute, p99 since the proxy started.";
    const order = rows.map((r) => r.name).join("\n");
    if (order !== routeOrder) {
      const fragment = document.createDocumentFragment();
      const keep = new Map();
      for (const row of rows) {
        let entry = routeRows.get(row.name);
        if (entry) updateRouteRow(entry, row); else entry = makeRouteRow(row);
        keep.set(row.name, entry);
        fragment.appendChild(entry.tr);
      }
      clear(tbody);
      tbody.appendChild(fragment);
      routeRows.clear();
      for (const [name, entry] of keep) routeRows.set(name, entry);
      routeOrder = order;
      applyFilter();
    } else {
      for (const row of rows) updateRouteRow(routeRows.get(row.name), row);
    }
  }
  function applyFilter() {
    const text = $("#route-filter").value.trim().toLowerCase();
    for (const [name, entry] of routeRows) {
      entry.tr.hidden = Boolean(text) && !name.toLowerCase().includes(text);
    }
  }

  // ---- comparison ----------------------------------------------------------------------
  function renderExample(example) {
    const box = el("div", { class: "example", "data-example": "" });
    box.appendChild(el("p", null, example.method + " " + example.target + " → base " +
      example.base_status + ", service " + (example.candidate_status === null ? "failed" : example.candidate_status)));
    const list = el("ul");
    for (const d of example.differences || []) {
      list.appendChild(el("li", null, d.path + " (" + d.kind + "): " + brief(d.base) + " → " + brief(d.candidate)));
    }
    box.appendChild(list);
    box.appendChild(el("code", null, example.curl));
    return box;
  }
  function renderComparison() {
    const part = doc.comparison || {};
    const admin = Boolean(doc.access && doc.access.admin);
    // The notice is in the page only while examples are withheld.
    const access = $("#comparison-access");
    clear(access);
    if (!admin) {
      access.appendChild(el("p", { "data-locked": "" },
        "Examples are recorded requests and answers: log in with the admin token to see them."));
    }
    const tbody = $("#comparison tbody");
    const note = $("#comparison .note");
    clear(tbody);
    if (part.routes === null || part.routes === undefined) {
      note.textContent = "Comparison results unknown: " + ((doc.unknown || {}).comparison || "not read");
      return;
    }
    note.textContent = part.routes.length ? "From " + (part.where || "the results store") + "."
      : "Nothing compared yet (" + (part.where || "no results store") + ").";
    const fragment = document.createDocumentFragment();
    for (const route of part.routes) {
      const tr = el("tr", { "data-route": route.route });
      tr.appendChild(el("th", { scope: "row" }, route.route));
      const c = route.confidence;
      tr.appendChild(el("td", { "data-field": "difference_rate" }, pct(route.difference_rate, 2) +
        (c ? " (" + pct(c.low, 2) + "–" + pct(c.high, 2) + ")" : "")));
      tr.appendChild(el("td", { "data-field": "compared" }, route.compared));
      tr.appendChild(el("td", { "data-field": "not_comparable" }, route.not_comparable));
      const clusters = el("td", { "data-field": "clusters" });
      for (const cluster of route.clusters || []) {
        const box = el("div", { class: "cluster", "data-cluster": cluster.label });
        box.appendChild(el("span", null, cluster.label + " × " + cluster.count));
        if (cluster.example) box.appendChild(renderExample(cluster.example));
        clusters.appendChild(box);
      }
      if (route.more_clusters) clusters.appendChild(el("p", null, "+" + route.more_clusters + " more in the full report"));
      tr.appendChild(clusters);
      fragment.appendChild(tr);
    }
    tbody.appendChild(fragment);
  }

  // ---- sync ----------------------------------------------------------------------------
  function renderSync() {
    const body = $("#sync .body");
    clear(body);
    const streams = doc.sync || [];
    if (!streams.length) body.appendChild(el("p", null, "No sync stream (no plan names sync nodes)."));
    for (const stream of streams) {
      const key = stream.stream.replace(/\s+/g, "");
      const box = el("div", { class: "card stream", "data-stream": key, "data-plan-of": stream.plan });
      box.appendChild(el("h3", null, stream.stream + " (" + stream.plan + ")"));
      const s = stream.state;
      if (!s) {
        box.appendChild(el("p", { class: "bad", "data-field": "unknown" }, "unknown: " + stream.unknown));
      } else {
        const dl = el("dl");
        const add = (label, field, value, bad) => {
          dl.appendChild(el("dt", null, label));
          dl.appendChild(el("dd", { "data-field": field, class: bad ? "bad" : "" }, value));
        };
        add("state", "paused", s.paused_reason ? "paused: " + s.paused_reason : s.enabled ? "flowing" : "disabled", Boolean(s.paused_reason));
        add("lag", "lag", s.lag_seconds === null ? "no data" : num(s.lag_seconds, 1) + " s");
        add("backlog", "backlog", s.backlog === null ? "unknown" : s.backlog);
        const bySource = Object.entries(stream.dead_letters_by_source || {})
          .filter(([, n]) => n > 0).map(([source, n]) => n + " from " + source);
        add("dead letters", "dead_letters", s.dead_letters === null ? "unknown"
          : s.dead_letters + (bySource.length ? " (" + bySource.join(", ") + ")" : ""), s.dead_letters > 0);
        add("last reconcile", "reconcile", s.reconcile_finished_at === null ? "never"
          : when(s.reconcile_finished_at) + ", " + (s.reconcile_diverged === 0 ? "in step" : s.reconcile_diverged + " diverged"),
          s.reconcile_diverged > 0);
        box.appendChild(dl);
        if ((stream.problems || []).length) {
          const problems = el("ul", { class: "bad", "data-field": "problems" });
          for (const problem of stream.problems) problems.appendChild(el("li", null, problem));
          box.appendChild(problems);
        }
      }
      body.appendChild(box);
    }
  }

  // ---- plans ---------------------------------------------------------------------------
  function conditionText(c) {
    return c.figure + " ≤ " + c.max + (c.min_count ? " over at least " + c.min_count : "");
  }
  function renderPlans() {
    const body = $("#plans .body");
    clear(body);
    const plans = doc.plans || [];
    if (!plans.length) body.appendChild(el("p", null, "No plan under " + (doc.plans_dir || "the plans directory") + "."));
    for (const plan of plans) {
      const box = el("div", { class: "card plan", "data-plan": plan.name });
      box.appendChild(el("h3", null, "Plan " + plan.name));
      if (plan.unknown) {
        box.appendChild(el("p", { class: "bad" }, "unknown: " + plan.unknown));
        body.appendChild(box);
        continue;
      }
      if (plan.description) box.appendChild(el("p", null, plan.description));
      const steps = el("ol", { class: "steps" });
      for (const step of plan.steps || []) {
        const li = el("li", { "data-step": step.name, "data-state": step.state, class: step.state });
        if (step.state === "current") li.setAttribute("data-current", "true");
        li.textContent = step.name + " (" + step.kind + ")";
        steps.appendChild(li);
      }
      box.appendChild(steps);
      const gate = plan.gate;
      if (gate) {
        const g = el("div", { class: "gate", "data-gate-verdict": gate.verdict });
        g.appendChild(el("p", null, "Gate of " + (plan.current_step || "the first step") + ": " + gate.verdict +
          (gate.reason ? " — " + gate.reason : "")));
        const list = el("ul");
        for (const c of gate.conditions || []) {
          const li = el("li", { "data-condition": c.figure, "data-verdict": c.verdict, class: c.verdict });
          li.appendChild(el("span", { class: "condition" }, conditionText(c)));
          li.appendChild(document.createTextNode(": "));
          li.appendChild(el("span", { "data-figure": "" }, c.value === null ? "no data" : String(Number(c.value.toPrecision(4)))));
          if (c.count !== null) li.appendChild(el("span", { class: "count" }, " (n=" + c.count + ")"));
          li.appendChild(el("span", { class: "verdict" }, " " + c.verdict));
          li.appendChild(el("span", { "data-reason": "" }, c.reason));
          list.appendChild(li);
        }
        g.appendChild(list);
        box.appendChild(g);
      }
      if (plan.pending) box.appendChild(el("p", { class: "bad" }, "interrupted move: " + brief(plan.pending)));
      for (const error of plan.errors || []) box.appendChild(el("p", { class: "bad" }, "could not read: " + error));
      body.appendChild(box);
    }
  }

  // ---- timeline ------------------------------------------------------------------------
  function renderTimeline() {
    const body = $("#timeline .body");
    clear(body);
    const audit = doc.audit;
    if (audit === null || audit === undefined) {
      body.appendChild(el("li", null, "No audit trail: " + ((doc.unknown || {}).audit || "no control store configured (STRANGLER_STORE_URL)")));
      return;
    }
    if (doc.audit_problem) {
      body.appendChild(el("li", { class: "bad", "data-audit-problem": "" }, "The audit trail is damaged: " + doc.audit_problem));
    }
    if (!audit.length) body.appendChild(el("li", null, "No change recorded yet."));
    const admin = Boolean(doc.access && doc.access.admin);
    for (const entry of audit) {
      const li = el("li", { "data-audit-id": entry.id });
      li.appendChild(el("time", null, when(entry.at)));
      li.appendChild(el("span", { "data-actor": "" }, entry.actor === null || entry.actor === undefined
        ? (admin ? "unknown" : "(log in to see who)") : entry.actor + (entry.via ? " via " + entry.via : "")));
      li.appendChild(el("span", { "data-action": entry.action }, entry.action));
      li.appendChild(el("span", { class: "subject" }, entry.subject));
      li.appendChild(el("span", { class: "change" }, brief(entry.before) + " → " + brief(entry.after)));
      body.appendChild(li);
    }
  }

  // ---- access --------------------------------------------------------------------------
  function renderAccess() {
    const admin = Boolean(doc.access && doc.access.admin);
    $("#login").hidden = admin;
    $("#logout-form").hidden = !admin;
  }

  const RENDERERS = {
    headline: renderHeadline, unknown: renderUnknown, routes: renderRoutes,
    comparison: renderComparison, sync: renderSync, plans: renderPlans, audit: renderTimeline,
    audit_problem: renderTimeline,
    access: () => { renderAccess(); renderComparison(); renderTimeline(); },
  };
  function renderAll() {
    renderAccess();
    for (const [key, render] of Object.entries(RENDERERS)) {
      if (key !== "access" && key !== "audit_problem") render();
    }
    setUpdated(doc.taken_at);
  }

  // ---- data ----------------------------------------------------------------------------
  function takeDocument(next) {
    doc = next;
    renderAll();
  }
  function applyPatch(patch) {
    if (!doc) return;
    const touched = new Set();
    for (const [key, value] of Object.entries(patch.set || {})) {
      doc[key] = value;
      touched.add(key);
    }
    if (patch.routes && doc.routes) {
      const index = new Map(doc.routes.map((r, i) => [r.name, i]));
      for (const row of patch.routes) {
        const i = index.get(row.name);
        if (i !== undefined) doc.routes[i] = row;
        const entry = routeRows.get(row.name);
        if (entry) updateRouteRow(entry, row);
      }
    }
    doc.taken_at = patch.taken_at;
    doc.version = patch.version;
    for (const key of touched) if (RENDERERS[key]) RENDERERS[key]();
    setUpdated(patch.taken_at);
  }
  async function fetchOnce() {
    try {
      const response = await fetch("/api/overview", { credentials: "same-origin", cache: "no-store" });
      if (response.ok) takeDocument(await response.json());
      else if (!doc) setConnection("offline");
    } catch (error) {
      setConnection("offline");
    }
  }
  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(fetchOnce, POLL_MS);
  }
  function stopPolling() {
    if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; }
  }
  function connect() {
    if (source) source.close();
    source = new EventSource("/events");
    source.addEventListener("open", () => { setConnection("live"); stopPolling(); });
    source.addEventListener("overview", (event) => takeDocument(JSON.parse(event.data)));
    source.addEventListener("patch", (event) => {
      const patch = JSON.parse(event.data);
      if (doc && patch.version === doc.version + 1) applyPatch(patch); else fetchOnce();
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        setConnection("offline");
        setTimeout(connect, POLL_MS);
      } else {
        setConnection("polling");
      }
      startPolling();
    });
  }

  async function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body,
      headers: { Accept: "application/json" },
    });
  }
  function wireForms() {
    $("#login").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const response = await post("/login", new URLSearchParams(new FormData(form)));
      const error = $("#login-error");
      if (response.ok) {
        error.textContent = "";
        form.reset();
        await fetchOnce();
        connect();
      } else {
        const answer = await response.json().catch(() => ({}));
        error.textContent = answer.message || "login refused";
        error.setAttribute("data-code", answer.code || "");
      }
    });
    $("#logout-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      await post("/logout", new URLSearchParams());
      await fetchOnce();
      connect();
    });
    $("#route-filter").addEventListener("input", applyFilter);
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireForms();
    fetchOnce();
    connect();
  });
})();
