"""The three layers (trigger → function → storage) of an app on one cloud, with that cloud's
service names: as Mermaid source (Markdown renders it on GitHub) and as an SVG drawn here, so the
HTML report is one self-contained file with no script and no network.

Nodes are coloured by support: native, bridged (another service to run), unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from corefn.report.classify import CloudResult, Report

COLOURS = {"native": "#d8f0dc", "bridged": "#fff1c2", "unsupported": "#f8d0d0"}
STROKES = {"native": "#2e7d32", "bridged": "#b7791f", "unsupported": "#c62828"}


@dataclass
class Node:
    id: str
    title: str
    subtitle: str
    support: str = "native"


@dataclass
class Layers:
    cloud: str
    platform: str
    triggers: list[Node] = field(default_factory=list)
    functions: list[Node] = field(default_factory=list)
    storage: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)


def layers(report: Report, result: CloudResult) -> Layers:
    platform = str(result.platform.get("function", {}).get("service", result.cloud))
    out = Layers(result.cloud, platform)
    items = {(i.what, i.name): i for i in result.items}
    triggers: dict[tuple[str, str], str] = {}
    for n, h in enumerate(report.subject.handlers):
        fid = f"f{n}"
        out.functions.append(Node(fid, h.name, h.kind))
        item = items[("trigger", h.name)]
        resource = next((str(h.trigger[k]) for k in ("queue", "topic", "stream", "table", "bucket", "route", "schedule")
                         if h.trigger.get(k)), h.kind)
        key = (item.service or f"no {h.kind} trigger", resource)
        if key not in triggers:
            triggers[key] = f"t{len(triggers)}"
            out.triggers.append(Node(triggers[key], key[0], resource, item.support))
        out.edges.append((triggers[key], fid))
    sinks: dict[str, str] = {}
    for item in result.items:
        if item.what == "sink":
            sinks[item.name] = f"s{len(sinks)}"
            out.storage.append(Node(sinks[item.name], item.service or f"no {item.kind} service", item.name, item.support))
    for n, h in enumerate(report.subject.handlers):
        for sink in h.sinks:
            if sink in sinks:
                out.edges.append((f"f{n}", sinks[sink]))
    # features that stand in a layer's place: an API writing to storage with no function, a state
    # machine calling functions (the trigger column, since they start the work)
    for need in report.subject.needs:
        if need.what != "feature" or need.kind not in ("direct-integration", "state-machine"):
            continue
        item = items[("feature", need.name)]
        nid = f"x{len(out.triggers)}"
        out.triggers.append(Node(nid, item.service or f"no {need.kind} counterpart", need.name, item.support))
        for target in need.options.get("writes", ()):
            if target in sinks:
                out.edges.append((nid, sinks[target]))
        for fn in need.options.get("calls", ()):
            out.edges.extend((nid, f"f{n}") for n, h in enumerate(report.subject.handlers)
                             if h.name == fn or h.name.split(".")[0] == fn)
    return out


def mermaid(report: Report, result: CloudResult) -> str:
    lay = layers(report, result)
    c = lay.cloud
    lines = ["flowchart LR"]
    for title, nodes, key in (("Triggers", lay.triggers, "t"), (f"Functions: {lay.platform}", lay.functions, "f"),
                              ("Storage", lay.storage, "s")):
        if not nodes:
            continue
        lines.append(f'  subgraph {c}_{key}["{_m(title)}"]')
        lines.extend(f'    {c}_{n.id}["{_m(n.title)}<br/>{_m(n.subtitle)}"]' for n in nodes)
        lines.append("  end")
    lines.extend(f"  {c}_{a} --> {c}_{b}" for a, b in lay.edges)
    for support in ("bridged", "unsupported"):
        ids = [f"{c}_{n.id}" for n in lay.triggers + lay.storage if n.support == support]
        if ids:
            lines.append(f"  classDef {support} fill:{COLOURS[support]},stroke:{STROKES[support]}")
            lines.append(f"  class {','.join(ids)} {support}")
    return "\n".join(lines)


def _m(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


# ------------------------------------------------------------------------------------ SVG

COL_W, NODE_W, NODE_H, GAP, TOP, LEFT = 310, 260, 46, 14, 52, 10
#: characters that fit a box line: bold titles are wider than the plain second line
TITLE_CHARS, LINE_CHARS = 33, 40


def svg(report: Report, result: CloudResult) -> str:
    lay = layers(report, result)
    columns = [("Triggers", lay.triggers, ""), ("Functions", lay.functions, lay.platform), ("Storage", lay.storage, "")]
    rows = max((len(nodes) for _, nodes, _ in columns), default=1) or 1
    height = TOP + rows * (NODE_H + GAP) + 10
    width = LEFT * 2 + COL_W * 2 + NODE_W
    where: dict[str, tuple[float, float]] = {}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="layers" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(lay.cloud)}: trigger, function and storage layers</title>",
    ]
    boxes: list[str] = []
    for col, (title, nodes, under) in enumerate(columns):
        x = LEFT + col * COL_W
        parts.append(f'<text x="{x}" y="20" font-weight="bold" font-size="13">{escape(title)}</text>')
        if under:
            parts.append(f'<text x="{x}" y="38" fill="#333333">{escape(_cut(under, LINE_CHARS))}</text>')
        for row, node in enumerate(nodes):
            y = TOP + row * (NODE_H + GAP)
            where[node.id] = (x, y)
            fill = COLOURS.get(node.support, "#eeeeee") if col != 1 else "#dde7f7"
            stroke = STROKES.get(node.support, "#555555") if col != 1 else "#3b5b92"
            boxes.append(
                f'<g class="node {escape(node.support)}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
                f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{escape(_cut(node.title, TITLE_CHARS))}</text>'
                f'<text x="{x + 8}" y="{y + 35}" fill="#333333">{escape(_cut(node.subtitle, LINE_CHARS))}</text>'
                f"<title>{escape(node.title)} — {escape(node.subtitle)} ({escape(node.support)})</title></g>"
            )
    for a, b in lay.edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
            mid = (sx + ex) / 2
            parts.append(f'<path d="M{sx},{sy} C{mid},{sy} {mid},{ey} {ex - 6},{ey}" fill="none" stroke="#666666" '
                         f'stroke-width="1.2"/><polygon points="{ex},{ey} {ex - 7},{ey - 4} {ex - 7},{ey + 4}" fill="#666666"/>')
    parts.extend(boxes)
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
