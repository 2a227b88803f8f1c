"""``corefn event CLOUD TRIGGER``: print a realistic sample payload (like ``sam local
generate-event``), ready to edit and replay with ``corefn invoke APP --event FILE``.

Samples belong to each adapter (its ``samples/`` folder, served by a ``sample(trigger)`` method on
the adapter object), so the core knows none of them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corefn.errors import CorefnError


def _fail(message: str) -> None:
    click.echo(f"corefn event: {message}", err=True)
    sys.exit(2)


class _InstalledClouds(click.Command):
    """Lists the installed adapters in ``--help``: read from the entry points only when help is
    asked for, so running the verb pays nothing for it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from corefn.adapters import installed_clouds

        formatter.write_paragraph()
        formatter.write_text(f"Installed clouds: {', '.join(installed_clouds()) or 'none'}.")


@click.command(cls=_InstalledClouds)
@click.argument("cloud")
@click.argument("trigger")
def command(cloud: str, trigger: str) -> None:
    """Print a sample CLOUD payload for TRIGGER (http, storage, queue, topic, timer, stream, nosql, ...).

    CLOUD is any installed adapter (a corefn.adapters entry point)."""
    from corefn.adapters import get_adapter

    try:
        adapter = get_adapter(cloud)
    except CorefnError as exc:
        _fail(str(exc))
    try:
        payload: Any = adapter.sample(trigger)
    except CorefnError as exc:
        _fail(str(exc))
    except (LookupError, ValueError, OSError) as exc:
        _fail(f"{cloud} has no sample for {trigger!r}: {exc}")
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
