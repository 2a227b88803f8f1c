"""The app's graph as inline SVG, drawn by corefn for the local console: what triggers each
handler (HTTP routes, timers, queues, topics, streams, buckets, tables) on the left, the handlers
in the middle, the sinks they may write to on the right.

Edges: trigger → handler from the declarations; handler → sink from a handler's ``uses``
declaration where it has one (least privilege) and from its idempotency records, and a dashed sink → trigger edge where a sink
writes into a resource some handler listens to (a publisher to a queue, a bucket whose uploads
raise storage events): how one handler feeds another. Laid out in three columns, no library,
no network; every node carries ``data-node`` so the page can light up live counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corefn.app import App

ROW = 46
BOX_H = 32
COLUMNS = (20, 300, 580)
BOX_W = 220
TOP = 36

#: trigger kind → the icon-less label prefix shown in the node
KIND_LABELS: dict[str, str] = {
    "http": "HTTP", "timer": "timer", "queue": "queue", "topic": "topic", "stream": "stream",
    "storage": "bucket", "nosql": "table", "invoke": "invoke",
}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: str
    kind: str
    column: int
    row: int

    @property
    def x(self) -> int:
        return COLUMNS[self.column]

    @property
    def y(self) -> int:
        return TOP + self.row * ROW


def _trigger_node(spec: Any) -> tuple[str, str]:
    """(node id, label) of the thing that triggers ``spec``."""
    t = spec.trigger
    if spec.kind == "http":
        return f"http:{spec.name}", f"{','.join(t.methods)} {t.route}"
    if spec.kind == "timer":
        return f"timer:{spec.name}", f"{t.schedule} ({t.tz})"
    if spec.kind == "invoke":
        return f"invoke:{spec.name}", "direct"
    return f"resource:{spec.resource}", str(spec.resource)


def layout(app: App) -> tuple[list[Node], list[tuple[str, str, bool]]]:
    """Nodes in three columns and edges (from, to, dashed)."""
    triggers: dict[str, Node] = {}
    handlers: dict[str, Node] = {}
    edges: list[tuple[str, str, bool]] = []
    steps = _flow_steps(app)
    for spec in app.handlers:
        node_id, label = _trigger_node(spec)
        if spec.name in steps:  # an invoke handler that is a flow's step: the flow runs it
            flow = steps[spec.name]
            node_id, label = f"flow:{flow}", flow
            if node_id not in triggers:
                triggers[node_id] = Node(node_id, f"flow {flow}", "flow", 0, len(triggers))
        if node_id not in triggers:
            triggers[node_id] = Node(node_id, f"{KIND_LABELS.get(spec.kind, spec.kind)} {label}", spec.kind, 0, len(triggers))
        handlers[spec.name] = Node(f"handler:{spec.name}", spec.name, "handler", 1, len(handlers))
        edges.append((node_id, f"handler:{spec.name}", False))
    sinks: dict[str, Node] = {}
    for sink in app.sinks:
        sinks[sink.name] = Node(f"sink:{sink.name}", f"{sink.kind} {sink.name}", sink.kind, 2, len(sinks))
        if f"resource:{sink.name}" in triggers:
            edges.append((f"sink:{sink.name}", f"resource:{sink.name}", True))
    from corefn.idempotency import record_sink

    for spec in app.handlers:
        used = list(_uses(spec))
        records = record_sink(spec)  # an idempotent handler writes its records there
        if records is not None and records not in used:
            used.append(records)
        for name in used:
            if name in sinks:
                edges.append((f"handler:{spec.name}", f"sink:{name}", False))
    return [*triggers.values(), *handlers.values(), *sinks.values()], edges


def _flow_steps(app: App) -> dict[str, str]:
    """Invoke handler → the (first) flow whose step it is."""
    flows = getattr(app, "flows", ())
    if not flows:
        return {}
    from corefn.flows import walk

    found: dict[str, str] = {}
    for flow in flows:
        for node in walk(flow.root):
            handler = getattr(node, "handler", None)
            if node.kind == "task" and handler:
                found.setdefault(str(handler), flow.name)
    return found


def _uses(spec: Any) -> tuple[str, ...]:
    """The sinks a handler declares it uses (``uses=``, where this corefn has it)."""
    found = getattr(spec, "uses", None)
    if found is None:
        found = getattr(spec.options, "uses", None)
    if not found:
        return ()
    return tuple(getattr(u, "name", u) for u in found)


def render(app: App) -> str:
    """The graph as one ``<svg>`` element (CSS classes styled by the console page)."""
    nodes, edges = layout(app)
    by_id = {n.id: n for n in nodes}
    rows = max((n.row for n in nodes), default=0) + 1
    height = TOP + rows * ROW + 10
    width = COLUMNS[2] + BOX_W + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="app graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>',
    ]
    for x, title in zip(COLUMNS, ("triggers", "handlers", "sinks"), strict=True):
        out.append(f'<text x="{x}" y="18" class="column">{title}</text>')
    for source, target, dashed in edges:
        a, b = by_id[source], by_id[target]
        if a.column < b.column:
            x1, y1, x2, y2 = a.x + BOX_W, a.y + BOX_H // 2, b.x, b.y + BOX_H // 2
            bend = (x2 - x1) / 2
            path = f"M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}"
        else:  # a sink feeding a trigger: loop under the columns
            x1, y1, x2, y2 = a.x + BOX_W // 2, a.y + BOX_H, b.x + BOX_W // 2, b.y + BOX_H
            low = height - 4
            path = f"M {x1} {y1} C {x1} {low}, {x2} {low}, {x2} {y2}"
        css = "edge feeds" if dashed else "edge"
        out.append(f'<path d="{path}" class="{css}" marker-end="url(#arrow)" data-from="{escape(source)}" data-to="{escape(target)}"/>')
    for n in nodes:
        label = n.label if len(n.label) <= 30 else n.label[:29] + "…"
        out.append(
            f'<g class="node {escape(n.kind)}" data-node="{escape(n.id)}"><title>{escape(n.label)}</title>'
            f'<rect x="{n.x}" y="{n.y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{n.x + 10}" y="{n.y + 20}">{escape(label)}</text>'
            f'<text x="{n.x + BOX_W - 8}" y="{n.y + 20}" class="badge" text-anchor="end"></text></g>'
        )
    out.append("</svg>")
    return "".join(out)
