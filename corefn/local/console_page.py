"""The one HTML page of the local console (``/_corefn/``): inline CSS and JS, the graph inline
as SVG. It polls ``api/state`` once a second and redraws its tables; a dead letter's Redrive
button posts to ``api/redrive``. Nothing is fetched from anywhere else."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from corefn.local.graph import render

if TYPE_CHECKING:
    from corefn.app import App

STYLE = """
:root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8b96a3; --ok:#3fb950;
        --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; gap:16px; align-items:baseline; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; } header .dim { color:var(--dim); }
main { display:grid; grid-template-columns: minmax(0,1fr) minmax(0,1fr); gap:16px; padding:16px 20px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 8px; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--dim); font-weight:500; } th.num, td.num { text-align:right; font-variant-numeric: tabular-nums; }
.empty { color:var(--dim); font-style:italic; }
.status { font-weight:600; } .s-ok, .s-2xx { color:var(--ok); } .s-retry, .s-4xx, .s-running { color:var(--warn); }
.s-dead, .s-5xx, .s-failed, .s-timed_out { color:var(--bad); } .s-replayed, .s-skipped { color:var(--accent); }
.s-succeeded { color:var(--ok); }
button { background:#21262d; color:var(--text); border:1px solid var(--line); border-radius:6px; padding:3px 10px; cursor:pointer; }
button:hover { border-color:var(--accent); }
#graph { max-width:100%; height:auto; }
#graph .node rect { fill:#1f2630; stroke:#3b4552; } #graph .node.handler rect { stroke:var(--accent); }
#graph .node text { fill:var(--text); font-size:12px; } #graph .node text.badge { fill:var(--dim); font-size:11px; }
#graph .node.busy rect { stroke:var(--warn); stroke-width:2; } #graph .node.failing rect { stroke:var(--bad); stroke-width:2; }
#graph .column { fill:var(--dim); font-size:11px; text-transform:uppercase; letter-spacing:.06em; }
#graph .edge { fill:none; stroke:#4b5563; stroke-width:1.4; } #graph .edge.feeds { stroke-dasharray:5 4; stroke:#6b7a8c; }
#graph .arrowhead { fill:#6b7280; }
code { font-size:12px; color:var(--dim); }
"""

SCRIPT = r"""
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const age = (s) => s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.floor(s/60)}m` : s < 86400 ? `${Math.floor(s/3600)}h` : `${Math.floor(s/86400)}d`;
const statusClass = (s) => /^\d+$/.test(s) ? `s-${s[0]}xx` : `s-${s}`;

function table(id, head, rows, empty) {
  const el = $(id);
  if (!rows.length) { el.innerHTML = `<p class="empty">${esc(empty)}</p>`; return; }
  const cells = head.map((h) => h.startsWith("#") ? `<th class="num">${h.slice(1)}</th>` : `<th>${h}</th>`);
  el.innerHTML = `<table><thead><tr>${cells.join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function draw(state) {
  $("clock").textContent = new Date(state.now * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  const byResource = {};
  for (const h of state.handlers) {
    const node = document.querySelector(`[data-node="handler:${CSS.escape(h.name)}"]`);
    const depth = h.queue.waiting + h.queue.delayed + h.queue.in_flight;
    if (node) {
      node.querySelector(".badge").textContent = `${h.ok + h.replayed} ok` + (h.dead ? ` · ${h.dead} dead` : "");
      node.classList.toggle("busy", state.running.some((r) => r.handler === h.name));
      node.classList.toggle("failing", h.dead_letters > 0);
    }
    if (h.resource) byResource[h.resource] = (byResource[h.resource] || 0) + depth;
  }
  for (const [resource, depth] of Object.entries(byResource)) {
    const node = document.querySelector(`[data-node="resource:${CSS.escape(resource)}"]`);
    if (node) node.querySelector(".badge").textContent = depth ? `${depth} pending` : "";
  }
  table("running", ["handler", "what", "#running for"], state.running.map((r) =>
    `<tr><td>${esc(r.handler)}</td><td>${esc(r.what)}</td><td class="num">${(r.elapsed_ms / 1000).toFixed(1)} s</td></tr>`), "nothing running");
  table("recent", ["time", "handler", "what", "status", "#ms", "detail"], state.recent.map((r) =>
    `<tr class="invocation"><td>${new Date(r.at * 1000).toLocaleTimeString()}</td><td>${esc(r.handler || "-")}</td><td>${esc(r.what)}</td>` +
    `<td class="status ${statusClass(r.status)}">${esc(r.status)}</td><td class="num">${r.ms}</td><td><code>${esc(r.detail)}</code></td></tr>`), "no invocation yet");
  table("queues", ["handler", "kind", "source", "#waiting", "#retrying", "#in flight", "#ok", "#retried", "#dead"], state.handlers.filter((h) => h.kind !== "http" && h.kind !== "invoke").map((h) =>
    `<tr data-handler="${esc(h.name)}"><td>${esc(h.name)}${h.idempotent ? " <code>idempotent</code>" : ""}</td><td>${esc(h.kind)}</td><td>${esc(h.resource || "")}</td>` +
    `<td class="num waiting">${h.queue.waiting}</td><td class="num">${h.queue.delayed}</td><td class="num">${h.queue.in_flight}</td>` +
    `<td class="num">${h.ok}</td><td class="num">${h.retried}</td><td class="num">${h.dead}</td></tr>`), "no queued triggers");
  table("streams", ["handler", "stream", "partition", "#last done", "#next", "#behind"], state.streams.map((s) =>
    `<tr><td>${esc(s.handler)}</td><td>${esc(s.stream)}</td><td>${esc(s.partition)}</td><td class="num">${esc(s.last_sequence ?? "–")}</td>` +
    `<td class="num">${esc(s.next_sequence ?? "–")}</td><td class="num">${s.behind}</td></tr>`),
    "no ordered handler has records yet (streams, table changes, FIFO queues)");
  table("timers", ["handler", "schedule", "next (its zone)", "next (UTC)", "#in"], state.timers.map((t) =>
    `<tr><td>${esc(t.handler)}</td><td><code>${esc(t.schedule)}</code> ${esc(t.tz)}</td><td>${esc(t.next_local)}</td><td>${esc(t.next_utc)}</td><td class="num">${age(t.in_s)}</td></tr>`), "no timers");
  table("dead", ["#id", "handler", "#attempts", "age", "last error", ""], state.dead.map((d) =>
    `<tr class="dead-letter" data-id="${d.id}"><td class="num">${d.id}</td><td>${esc(d.handler)}</td><td class="num">${d.attempts}</td><td>${age(d.age_s)}</td>` +
    `<td><code>${esc(d.error)}</code></td><td><button class="redrive" data-id="${d.id}">Redrive</button></td></tr>`), "no dead letters");
  $("redrive-all").hidden = !state.dead.length;
  if ($("flows")) table("flows", ["run", "flow", "status", "#steps done", "#seconds", "error"], state.flows.map((f) =>
    `<tr class="flow-run"><td><code>${esc(f.id.slice(0, 12))}</code></td><td>${esc(f.flow)}</td><td class="status s-${esc(f.status)}">${esc(f.status)}</td>` +
    `<td class="num">${f.steps_done}/${f.steps_seen}</td><td class="num">${f.elapsed_s ?? "–"}</td><td><code>${esc(f.error || "")}</code></td></tr>`), "no flow run yet");
}

async function refresh() {
  try {
    const answer = await fetch("api/state", {cache: "no-store"});
    draw(await answer.json());
    $("offline").hidden = true;
  } catch (e) {
    $("offline").hidden = false;
  }
}

async function redrive(body) {
  const answer = await fetch("api/redrive", {method: "POST", headers: {"content-type": "application/json", "x-corefn-console": "1"}, body: JSON.stringify(body)});
  const result = await answer.json();
  $("notice").textContent = answer.ok ? `redriven: ${result.redriven.join(", ") || "nothing"}` : result.error;
  await refresh();
}

document.addEventListener("click", (e) => {
  const button = e.target.closest("button.redrive");
  if (button) redrive({ids: [Number(button.dataset.id)]});
  if (e.target.id === "redrive-all") redrive({all: true});
});
refresh();
setInterval(refresh, 1000);
"""


def render_page(app: App) -> str:
    name = escape(app.name)
    flows = '<section class="wide"><h2>Flow runs</h2><div id="flows"></div></section>\n' if app.flows else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>corefn · {name}</title><style>{STYLE}</style></head>
<body>
<header><h1>corefn run · {name}</h1><span class="dim" id="clock"></span><span class="dim" id="offline" hidden>runtime not answering</span>
<span class="dim" id="notice"></span></header>
<main>
<section class="wide"><h2>Graph</h2>{render(app)}</section>
<section><h2>Running now</h2><div id="running"></div></section>
<section><h2>Timers</h2><div id="timers"></div></section>
<section class="wide"><h2>Invocations</h2><div id="recent"></div></section>
<section class="wide"><h2>Queues</h2><div id="queues"></div></section>
<section><h2>Stream positions</h2><div id="streams"></div></section>
<section><h2>Dead letters <button id="redrive-all" hidden>Redrive all</button></h2><div id="dead"></div></section>
{flows}</main>
<script>{SCRIPT}</script>
</body></html>
"""
