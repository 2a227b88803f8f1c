"""``corefn check APP [--cloud NAME ...] [--json] [--ignore RULE[:HANDLER] ...]``: the provider
limits APP's declarations break.

One line per finding: severity, rule, cloud, handler, the declared number against the limit, what
happens, and the provider page the limit comes from. A handler within every limit is not
mentioned. Exit status 1 when any finding is an error (for CI), 0 otherwise; 2 when APP or a
cloud's facts cannot be loaded.
"""

from __future__ import annotations

import json
import sys

import click

from corefn.errors import CorefnError


@click.command()
@click.argument("app_ref", metavar="APP")
@click.option("--cloud", "clouds", multiple=True, help="Repeatable; every installed adapter when omitted.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.option(
    "--ignore", "ignored", multiple=True, metavar="RULE[:HANDLER]",
    help="Repeatable: drop a rule's findings (for one handler), e.g. after raising a quota the facts cannot know about.",
)
def command(app_ref: str, clouds: tuple[str, ...], as_json: bool, ignored: tuple[str, ...]) -> None:
    """Check APP (MODULE:ATTRIBUTE or path/to/file.py:ATTRIBUTE) against each cloud's limits."""
    from corefn import facts
    from corefn.adapters import installed_clouds
    from corefn.limits import RULES, check, has_errors
    from corefn.loader import load_app

    unknown = sorted({item.partition(":")[0] for item in ignored} - set(RULES))
    if unknown:
        click.echo(f"corefn check: --ignore {', '.join(unknown)}: no such rule (rules: {', '.join(RULES)})", err=True)
        sys.exit(2)
    try:
        app = load_app(app_ref)
        loaded = facts.load_all(list(clouds) or installed_clouds())
    except CorefnError as exc:
        click.echo(f"corefn check: {exc}", err=True)
        sys.exit(2)
    skip = {tuple(item.split(":", 1)) if ":" in item else (item,) for item in ignored}
    findings = [f for f in check(app, loaded.values()) if (f.rule,) not in skip and (f.rule, f.handler) not in skip]
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        for f in findings:
            click.echo(f"{f.severity:<7} {f.rule:<19} {f.cloud:<9} {f.handler}: {f.value} vs {f.limit}: {f.message}")
            click.echo(f"{'':<8}{f.source}")
        errors = sum(f.severity == "error" for f in findings)
        skipped = [c for c, cf in loaded.items() if not cf.topic("services")]
        dates = ", ".join(f"{c} {cf.checked.get('limits', 'no limits file')}" for c, cf in loaded.items())
        click.echo(f"{app.name}: {errors} error(s), {len(findings) - errors} warning(s) on {', '.join(loaded)} "
                   f"(limits checked: {dates})")  # fmt: skip
        if skipped:
            click.echo(f"trigger support not checked on {', '.join(skipped)}: no services.toml in the adapter")
    sys.exit(1 if has_errors(findings) else 0)
