"""``corefn inspect FILE [--cloud NAME] [--shape NAME]``: a provider payload as corefn events.

Prints ``{"cloud": ..., "shape": ..., "events": [...]}`` (the JSON-form contract). Exit status
0 on success; 2 with a one-line error on stderr for an unrecognised or malformed payload.

The output is the payload as the provider sent it: no deployment setting is read (no
``COREFN_HANDLER`` pin, no ``COREFN_NAMES`` renaming, no adapter ``bind`` step), so a
developer's shell cannot change the contract. What a deployed handler receives is what
``corefn.testing.call`` shows.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corefn.errors import CorefnError


def inspect_payload(raw: Any, cloud: str | None = None, shape: str | None = None) -> dict[str, Any]:
    from corefn.adapters import parse

    parsed = parse(raw, cloud, shape)
    return {"cloud": parsed.cloud, "shape": parsed.shape_name, "events": [e.to_dict() for e in parsed.events]}


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option("--cloud", help="An installed adapter (corefn event --help lists them); detected when omitted.")
@click.option("--shape", help="Skip detection and read the payload as this shape ('invoke' for a direct invoke).")
def command(file: Any, cloud: str | None, shape: str | None) -> None:
    """Read a provider payload (a JSON file, or - for stdin) and print it as corefn events."""
    try:
        raw = json.loads(file.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"{file.name}: not JSON: {exc}")
    try:
        result = inspect_payload(raw, cloud, shape)
    except CorefnError as exc:
        _fail(str(exc))
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _fail(message: str) -> None:
    click.echo(f"corefn inspect: {message}", err=True)
    sys.exit(2)
