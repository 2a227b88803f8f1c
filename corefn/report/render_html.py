"""The report as one self-contained HTML page: inline CSS, the layer pictures as inline SVG
drawn by corefn, no script, no external resource (it opens offline and in a mail attachment)."""

from __future__ import annotations

from html import escape

from corefn.report.classify import Report, score_rule
from corefn.report.diagram import COLOURS, svg
from corefn.report.render_text import facts_line, heading

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:1100px}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f2f2f2}.native{background:NATIVE}.bridged{background:BRIDGED}
.unsupported{background:UNSUPPORTED}.score{font-size:1.2rem;font-weight:bold}
figure{margin:1rem 0;overflow-x:auto}figcaption{font-size:.85rem;color:#555}
""".replace("NATIVE", COLOURS["native"]).replace("BRIDGED", COLOURS["bridged"]).replace(
    "UNSUPPORTED", COLOURS["unsupported"]
)


def _service(service: str | None, source: str | None, note: str = "") -> str:
    if not service:
        return "-"
    text = f'<a href="{escape(source)}">{escape(service)}</a>' if source else escape(service)
    return f'{text}<br><small>{escape(note)}</small>' if note else text


def render_html(report: Report) -> str:
    e = escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(heading(report))}</title><style>{CSS}</style></head><body>",
           f"<h1>{e(heading(report))}</h1>", f"<p>{e(facts_line(report, linked=True))}</p>",
           "<h2>Portability score</h2><table><tr><th>cloud</th><th>score</th></tr>"]
    out += [f'<tr><td>{e(c)}</td><td class="score">{r.score}</td></tr>' for c, r in report.clouds.items()]
    out.append(f"</table><p>How it is computed: {e(score_rule())}.</p>")
    for cloud, result in report.clouds.items():
        out.append(f'<h2 id="cloud-{e(cloud)}">{e(cloud)}: score {result.score}</h2>')
        out.append(f"<figure>{svg(report, result)}<figcaption>Trigger → function → storage on {e(cloud)}; "
                   "green native, amber bridged (another service to run), red unsupported.</figcaption></figure>")
        out.append("<table><tr><th>what</th><th>kind</th><th>name</th><th>support</th><th>service</th></tr>")
        out += [f'<tr><td>{e(i.what)}</td><td>{e(i.kind)}</td><td>{e(i.name)}</td>'
                f'<td class="{e(i.support)}">{e(i.support)}</td><td>{_service(i.service, i.source, i.note)}</td></tr>' for i in result.items]
        out.append("</table>")
    out.append("<h2>Differences that bite when moving</h2>")
    if report.differences:
        out.append("<table><tr><th>handler</th><th>topic</th><th>difference</th></tr>")
        out += [f"<tr><td>{e(d['handler'])}</td><td>{e(d['topic'])}</td><td>{e(d['text'])}</td></tr>"
                for d in report.differences]
        out.append("</table>")
    else:
        out.append("<p>None found: no handler meets a rule that differs between the clouds.</p>")
    out.append("<h2>Lock-in points</h2>")
    if report.lock_in:
        out.append("<table><tr><th>handler</th><th>point</th><th>what and where</th></tr>")
        out += [f"<tr><td>{e(x['handler'])}</td><td>{e(x['name'])}</td><td>{e(x['text'])}</td></tr>" for x in report.lock_in]
        out.append("</table>")
    else:
        out.append("<p>None found.</p>")
    out.append("<h2>Migration checklist</h2><table><tr><th>step</th><th>effort</th><th>what</th></tr>")
    out += [f"<tr><td>{s['step']}</td><td>{e(s['effort'])}</td><td>{e(s['what'])}</td></tr>" for s in report.checklist]
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"
