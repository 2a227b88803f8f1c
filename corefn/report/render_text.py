"""The report as plain text (the terminal's default) and as Markdown (with Mermaid pictures)."""

from __future__ import annotations

from collections.abc import Iterator

from corefn.report.classify import Report, score_rule
from corefn.report.diagram import mermaid

SUPPORT_MARK = {"native": "native", "bridged": "BRIDGED", "unsupported": "UNSUPPORTED"}


def heading(report: Report) -> str:
    s = report.subject
    what = "app" if s.source == "app" else "template"
    handlers = f"{len(s.handlers)} handler{'' if len(s.handlers) == 1 else 's'}"
    clouds = f"{len(report.clouds)} cloud target{'' if len(report.clouds) == 1 else 's'}"
    return f"Lock-in report for {what} '{s.app}': {handlers} on {clouds}"


def facts_line(report: Report, linked: bool = False) -> str:
    days = ", ".join(f"{c} {r.checked}" for c, r in report.clouds.items() if r.checked)
    where = ("each service links to the provider page it was read from" if linked
             else "--format markdown or html links each service to the provider page it was read from")
    return f"Provider facts last verified: {days or 'never'} ({where})."


def render_text(report: Report) -> str:
    return "\n".join(_text(report)) + "\n"


def _text(report: Report) -> Iterator[str]:
    yield heading(report)
    yield facts_line(report)
    yield ""
    yield "Portability score (0-100): " + ", ".join(f"{c} {r.score}" for c, r in report.clouds.items())
    yield f"  {score_rule()}"
    for cloud, result in report.clouds.items():
        yield ""
        yield f"== {cloud}: score {result.score}"
        for i in result.items:
            yield f"  {i.what:8} {i.kind:18} {i.name:32} {SUPPORT_MARK[i.support]:11} {i.service or '-'}"
    yield ""
    yield "Differences that bite when moving"
    for d in report.differences:
        yield f"  [{d['handler']}] {d['topic']}: {d['text']}"
    if not report.differences:
        yield "  none found: no handler meets a rule that differs between the clouds"
    yield ""
    yield "Lock-in points"
    for x in report.lock_in:
        yield f"  [{x['handler']}] {x['name']}: {x['text']}"
    if not report.lock_in:
        yield "  none found"
    yield ""
    yield "Migration checklist (effort S / M / L)"
    for step in report.checklist:
        yield f"  {step['step']:>2}. [{step['effort']}] {step['what']}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _service(service: str | None, source: str | None, note: str = "") -> str:
    if not service:
        return "-"
    text = f"[{_cell(service)}]({source})" if source else _cell(service)
    return f"{text} — {_cell(note)}" if note else text


def render_markdown(report: Report) -> str:
    out = [f"# {heading(report)}", "", facts_line(report, linked=True), "", "## Portability score", "",
           "| cloud | score |", "|---|---:|"]
    out += [f"| {c} | {r.score} |" for c, r in report.clouds.items()]
    out += ["", f"How it is computed: {score_rule()}.", ""]
    for cloud, result in report.clouds.items():
        out += [f"## {cloud}", "", "```mermaid", mermaid(report, result), "```", "",
                "| what | kind | name | support | service |", "|---|---|---|---|---|"]
        out += [f"| {i.what} | {i.kind} | {_cell(i.name)} | {i.support} | {_service(i.service, i.source, i.note)} |" for i in result.items]
        out.append("")
    out += ["## Differences that bite when moving", ""]
    if report.differences:
        out += ["| handler | topic | difference |", "|---|---|---|"]
        out += [f"| {_cell(d['handler'])} | {d['topic']} | {_cell(d['text'])} |" for d in report.differences]
    else:
        out.append("None found: no handler meets a rule that differs between the clouds.")
    out += ["", "## Lock-in points", ""]
    out += [f"- **{_cell(x['name'])}** ({_cell(x['handler'])}): {x['text']}" for x in report.lock_in] or ["None found."]
    out += ["", "## Migration checklist", "", "| step | effort | what |", "|---:|:---:|---|"]
    out += [f"| {s['step']} | {s['effort']} | {_cell(s['what'])} |" for s in report.checklist]
    return "\n".join(out) + "\n"
