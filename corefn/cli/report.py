"""``corefn report APP | --from-template FILE [--format text|markdown|html|json] [--out FILE]``:
what moving clouds would cost, per installed cloud target (see :mod:`corefn.report`).

Exit status 0 with the report; 2 with a one-line error for a bad app, template or option.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from corefn.errors import CorefnError

FORMATS = ("text", "markdown", "html", "json")


def render(report: object, fmt: str) -> str:
    from corefn.report import Report

    assert isinstance(report, Report)
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        from corefn.report.render_text import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from corefn.report.render_html import render_html

        return render_html(report)
    from corefn.report.render_text import render_text

    return render_text(report)


@click.command()
@click.argument("app_ref", metavar="APP", required=False)
@click.option("--from-template", "template", type=click.Path(dir_okay=False, path_type=Path),
              help="An AWS SAM / CloudFormation template (YAML or JSON) to report on instead of an app.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--cloud", "clouds", multiple=True, help="Repeatable; every installed cloud target when omitted.")
def command(app_ref: str | None, template: Path | None, fmt: str, out: Path | None, clouds: tuple[str, ...]) -> None:
    """Report how portable APP (MODULE:ATTRIBUTE or path/to/file.py:ATTRIBUTE) or a template is."""
    if (app_ref is None) == (template is None):
        _fail("give either APP or --from-template FILE")
    try:
        from corefn.report import report_app, report_template

        chosen = list(clouds) or None
        if template is not None:
            report = report_template(template, chosen)
        else:
            from corefn.loader import load_app

            report = report_app(load_app(app_ref), chosen)
        text = render(report, fmt)
    except CorefnError as exc:
        _fail(str(exc))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(str(out))


def _fail(message: str) -> None:
    click.echo(f"corefn report: {message}", err=True)
    sys.exit(2)
