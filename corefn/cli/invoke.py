"""``corefn invoke APP NAME --data JSON`` and ``corefn invoke APP [NAME] --event FILE [--cloud X]``.

``--data`` runs the invoke handler ``NAME`` with that JSON payload and prints its JSON result.
``--event`` replays any provider payload (a real AWS / Azure / GCP / OpenWhisk event, or one from
``corefn event``) through that cloud's adapter, found by the registry like on the cloud itself
(the local runtime never imports an adapter), then dispatches it to ``NAME`` or to the handler
the event's resource names. One line per event is printed: its outcome, and the result or the
error. Exit status: 0 when every handler succeeded, 1 when one failed, 2 for a bad payload or
usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corefn.errors import CorefnError


def _fail(message: str) -> None:
    click.echo(f"corefn invoke: {message}", err=True)
    sys.exit(2)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@click.command()
@click.argument("app_ref", metavar="APP")
@click.argument("name", required=False)
@click.option("--data", help="JSON payload for an invoke handler (use - to read stdin).")
@click.option("--event", "event_file", type=click.File("rb"), help="A provider payload file to replay (- for stdin).")
@click.option("--cloud", help="The payload's cloud (detected when omitted; needed for a plain JSON invoke payload).")
def command(app_ref: str, name: str | None, data: str | None, event_file: Any, cloud: str | None) -> None:
    """Run one handler of APP locally with a JSON payload or a provider event."""
    if (data is None) == (event_file is None):
        _fail("give exactly one of --data JSON or --event FILE")
    from corefn.context import Context
    from corefn.dispatch import dispatch
    from corefn.loader import load_app
    from corefn.log import configure

    configure("local")
    try:
        app = load_app(app_ref)
        ctx = Context(cloud="local", app=app)
        if data is not None:
            if name is None:
                invokes = app.handlers_of("invoke")
                if len(invokes) != 1:
                    _fail(f"name the invoke handler to run ({', '.join(s.name for s in invokes) or 'the app has none'})")
                name = invokes[0].name
            try:
                payload = json.loads(sys.stdin.read() if data == "-" else data)
            except json.JSONDecodeError as exc:
                _fail(f"--data is not JSON: {exc}")
            from corefn.events import InvokeEvent

            result = dispatch(app, [InvokeEvent(payload=payload, name=name)], ctx, pinned=name)
            failed = result.failed
            if failed:
                error = failed[0].error
                click.echo(f"error: {type(error).__name__}: {error}", err=True)
                sys.exit(1)
            click.echo(_show(result.value()))
            return
        sys.exit(_replay(app, ctx, event_file, name, cloud))
    except CorefnError as exc:
        _fail(str(exc))


def _replay(app: Any, ctx: Any, event_file: Any, name: str | None, cloud: str | None) -> int:
    from corefn.adapters import deliver, get_adapter, parse

    try:
        raw = json.loads(event_file.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"{event_file.name}: not JSON: {exc}")
    parsed = parse(raw, cloud)  # finds the cloud when none is named
    if parsed.is_warmup:
        click.echo(f"{parsed.cloud} warm-up ping: answered without running a handler")
        return 0
    if not parsed.events:
        click.echo(f"{parsed.cloud} {parsed.shape_name}: no events (nothing to run)")
        return 0
    assert parsed.cloud is not None  # parse names the cloud whenever a shape claimed the payload
    shape = type(parsed.shape) if parsed.shape is not None else None
    # then the deployed flow (the adapter's bind step included), as testing.call runs it
    _, result = deliver(get_adapter(parsed.cloud), app, raw, ctx, pinned=name, shape=shape)
    assert result is not None
    if result.response is not None:
        response = result.response
        body = response.body.decode("utf-8", "replace") if response.is_text() else f"<{len(response.body)} bytes>"
        click.echo(f"http {response.status} {_show(dict(response.headers))} {body}")
        return 1 if response.status >= 500 else 0
    for outcome in result.outcomes:
        handler = outcome.spec.name if outcome.spec else "-"
        what = f"{outcome.event.kind} {outcome.event.id or ''}".strip()
        if outcome.error is not None:
            click.echo(f"failed  {handler} {what}: {type(outcome.error).__name__}: {outcome.error}")
        elif outcome.skipped:
            click.echo(f"skipped {handler} {what} (filtered out by the trigger)")
        else:
            click.echo(f"ok      {handler} {what} {_show(outcome.result)}")
    return 0 if result.ok else 1
