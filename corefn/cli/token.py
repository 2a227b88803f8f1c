"""``corefn token``: a bearer token for trying a route with ``auth=Jwt.local(...)`` locally.

The token is signed with the local issuer's key (created on first use under the state folder,
``.corefn/auth/local-key.pem``) and says ``iss = urn:corefn:local``. Only a route configured with
that issuer accepts it; every deploy generator refuses an app that does, so such a token never
opens a deployed API. For an app whose routes name a real issuer, get a token from that issuer.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from corefn.errors import CorefnError


@click.command()
@click.option("--sub", "subject", default="dev-user", show_default=True, help="The token's subject (req.auth.subject).")
@click.option("--aud", "audience", default="corefn-local", show_default=True, help="Audience; must match Jwt.local(audience=...).")
@click.option("--scope", "scopes", multiple=True, help="A granted scope (repeatable).")
@click.option("--role", "roles", multiple=True, help="A role, in the 'roles' claim (repeatable).")
@click.option("--claim", "claims", multiple=True, metavar="NAME=JSON", help="An extra claim; the value is JSON, or a string.")
@click.option("--ttl", type=click.IntRange(1, 7 * 86400), default=3600, show_default=True, help="Seconds until it expires.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help="State folder [default: $COREFN_STATE_DIR or .corefn]")
def command(
    subject: str, audience: str, scopes: tuple[str, ...], roles: tuple[str, ...], claims: tuple[str, ...], ttl: int, state: Path | None
) -> None:
    """Print a development JWT from the local issuer (use: curl -H "authorization: Bearer $(corefn token)")."""
    if state is not None:
        os.environ["COREFN_STATE_DIR"] = str(state)
    extra: dict[str, object] = {}
    for item in claims:
        name, sep, value = item.partition("=")
        if not sep or not name:
            click.echo(f"corefn token: --claim wants NAME=VALUE, got {item!r}", err=True)
            sys.exit(2)
        try:
            extra[name] = json.loads(value)
        except ValueError:
            extra[name] = value
    if roles:
        extra["roles"] = list(roles)
    from corefn.auth.local import mint

    try:
        token = mint(subject, audience, scopes=scopes, ttl=ttl, claims=extra)
    except CorefnError as exc:
        click.echo(f"corefn token: {exc}", err=True)
        sys.exit(2)
    click.echo(token)
