"""``corefn dead APP list | show ID | redrive (ID ... | --all) [--to HANDLER] | supports``.

Locally (the default) it reads the state folder of ``corefn run`` (``--state``, else
``$COREFN_STATE_DIR``, else ``.corefn``); it works while the runtime runs, whose workers pick
redriven messages up within their poll interval. IDs are the store's delivery ids, as ``list``
prints them.

With ``--cloud NAME`` it works on that cloud's dead-letter queue (``--queue`` URL / name, or
``--subscription`` for Pub/Sub) through the adapter's optional hook
(:mod:`corefn.deadletters`), and says plainly what that cloud cannot do (``supports`` prints the
whole table). Exit status: 0, 1 when an operation found nothing to do (``show`` of a gone id),
2 for usage errors and unsupported operations.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from corefn.errors import CorefnError


def age_text(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: what a person scans in a list."""
    seconds = int(max(0.0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Where:
    """The group's options, handed to the subcommands."""

    def __init__(self, app_ref: str, state: Path | None, cloud: str | None, queue: str | None, subscription: str | None, as_json: bool) -> None:
        self.app_ref = app_ref
        self.state = state
        self.cloud = cloud
        self.queue = queue
        self.subscription = subscription
        self.as_json = as_json

    def store(self) -> Any:
        from corefn.local.store import DB_NAME, store_at
        from corefn.sinks import state_dir

        folder = self.state or state_dir()
        if not (folder / DB_NAME).exists():
            raise click.ClickException(f"{folder} holds no corefn run state (no {DB_NAME}); pass --state DIR")
        return store_at(folder)

    def cloud_queue(self) -> Any:
        from corefn.deadletters import open_dead_letters

        where = {k: v for k, v in (("queue", self.queue), ("subscription", self.subscription)) if v}
        return open_dead_letters(str(self.cloud), where)


def common(fn: Any) -> Any:
    """The options every subcommand takes too, so they may come before or after it
    (``corefn dead APP --json list`` and ``corefn dead APP list --json``)."""
    options = [
        click.option("--state", type=click.Path(file_okay=False, path_type=Path), help="State folder of corefn run [default: $COREFN_STATE_DIR or .corefn]"),
        click.option("--cloud", help="Work on this cloud's dead-letter queue instead of the local runtime's."),
        click.option("--queue", help="--cloud aws: the DLQ's URL; azure: the poison queue's name (see supports)."),
        click.option("--subscription", help="--cloud gcp: the dead-letter topic's subscription (projects/P/subscriptions/S)."),
        click.option("--json", "as_json", is_flag=True, default=None, help="Print JSON."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _where(ctx: click.Context, **given: Any) -> Where:
    """The group's options, overridden by the subcommand's own."""
    parent: Where = ctx.obj
    merged = {**vars(parent), **{k: v for k, v in given.items() if v is not None}}
    return Where(merged["app_ref"], merged["state"], merged["cloud"], merged["queue"], merged["subscription"], bool(merged["as_json"]))


@click.group()
@click.argument("app_ref", metavar="APP")
@common
@click.pass_context
def command(ctx: click.Context, app_ref: str, state: Path | None, cloud: str | None, queue: str | None, subscription: str | None, as_json: bool | None) -> None:
    """List, show and redrive APP's dead letters (local runtime, or --cloud NAME)."""
    ctx.obj = Where(app_ref, state, cloud, queue, subscription, bool(as_json))


def _fail(exc: CorefnError) -> None:
    click.echo(f"corefn dead: {exc}", err=True)
    sys.exit(2)


@command.command("list")
@click.option("--handler", help="Only this handler's dead letters.")
@click.option("--limit", default=50, type=click.IntRange(1), show_default=True)
@common
@click.pass_context
def list_(ctx: click.Context, /, handler: str | None, limit: int, **given: Any) -> None:
    """The dead letters: id, handler, attempts, age, last error."""
    where = _where(ctx, **given)
    try:
        if where.cloud:
            queue = where.cloud_queue()
            from corefn.deadletters import refuse

            if queue.supports.get("list") is not None:
                raise refuse(queue, "list")
            letters = queue.peek(limit)
            count = queue.count() if queue.supports.get("count") is None else None
            if where.as_json:
                click.echo(json.dumps({"count": count, "messages": [m.to_dict() for m in letters]}, indent=2))
                return
            click.echo(f"{where.cloud}: {count if count is not None else '?'} message(s) in the dead-letter queue")
            for m in letters:
                click.echo(f"  {m.id}  attempts={m.attempts if m.attempts is not None else '?'}  {m.enqueued or ''}  {m.body[:60]!r}")
            return
        from corefn.local.dead import dead_letters

        letters_local = dead_letters(where.store(), handler, limit)
    except CorefnError as exc:
        _fail(exc)
        return
    if where.as_json:
        click.echo(json.dumps([d.summary() for d in letters_local], indent=2))
        return
    if not letters_local:
        click.echo("no dead letters")
        return
    now = time.time()
    width = max(len("handler"), *(len(d.handler) for d in letters_local))
    click.echo(f"{'id':>6}  {'handler':<{width}}  {'attempts':>8}  {'age':>6}  last error")
    for d in letters_local:
        error = d.error if len(d.error) <= 70 else d.error[:67] + "..."
        click.echo(f"{d.id:>6}  {d.handler:<{width}}  {d.attempts:>8}  {age_text(d.age(now)):>6}  {error}")


@command.command()
@click.argument("id")
@common
@click.pass_context
def show(ctx: click.Context, /, id: str, **given: Any) -> None:
    """Everything about one dead letter: body, attributes, event fields, error."""
    where = _where(ctx, **given)
    try:
        if where.cloud:
            queue = where.cloud_queue()
            from corefn.deadletters import refuse

            if queue.supports.get("show") is not None:
                raise refuse(queue, "show")
            click.echo(json.dumps(queue.show(id).to_dict(), indent=2))
            return
        from corefn.local.dead import dead_letter

        if not id.isdigit():
            raise click.BadParameter(f"{id!r}: local dead-letter ids are numbers (see: corefn dead APP list)")
        letter = dead_letter(where.store(), int(id))
    except CorefnError as exc:
        _fail(exc)
        return
    data = letter.to_dict()
    if where.as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for name in ("id", "message_id", "handler", "kind", "resource", "attempts", "error"):
        click.echo(f"{name:<11} {data[name]}")
    click.echo(f"{'age':<11} {age_text(letter.age())}")
    for name in ("attributes", "meta", "key", "partition"):
        if data[name]:
            click.echo(f"{name:<11} {json.dumps(data[name])}")
    click.echo(f"{'body':<11} {data['body']}" + ("  (base64)" if data.get("body_encoding") else ""))


@command.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every dead letter (of --handler, when given).")
@click.option("--handler", help="Locally, with --all: only this handler's dead letters.")
@click.option("--to", "target", help="Locally: the handler to deliver to (same trigger kind); --cloud: the destination queue.")
@common
@click.pass_context
def redrive(ctx: click.Context, /, ids: tuple[str, ...], everything: bool, handler: str | None, target: str | None, **given: Any) -> None:
    """Put dead letters back, attempts reset to 0: ID ... or --all."""
    where = _where(ctx, **given)
    if bool(ids) == everything:
        raise click.UsageError("give dead-letter IDs or --all (not both)")
    if handler and (ids or where.cloud):
        raise click.UsageError("--handler goes with --all on the local runtime")
    try:
        if where.cloud:
            queue = where.cloud_queue()
            from corefn.deadletters import refuse

            operation = "redrive_ids" if ids else "redrive_to" if target else "redrive"
            for needed in {"redrive", operation}:
                if queue.supports.get(needed) is not None:
                    raise refuse(queue, needed)
            done = queue.redrive(list(ids) or None, target)
            click.echo(f"{where.cloud}: {done.detail}")
            return
        from corefn.loader import load_app
        from corefn.local.dead import redrive as move

        bad = [i for i in ids if not i.isdigit()]
        if bad:
            raise click.BadParameter(f"{', '.join(bad)}: local dead-letter ids are numbers (see: corefn dead APP list)")
        app = load_app(where.app_ref)
        kinds = {spec.name: spec.kind for spec in app.handlers}
        store = where.store()
        if handler:
            from corefn.local.dead import dead_letters

            chosen: list[int] | None = [d.id for d in dead_letters(store, handler)]
        else:
            chosen = [int(i) for i in ids] if ids else None
        moved = move(store, chosen, target, kinds) if chosen is None or chosen else []
    except CorefnError as exc:
        _fail(exc)
        return
    if where.as_json:
        click.echo(json.dumps({"redriven": moved}))
    elif not moved:
        click.echo("no dead letters to redrive")
    else:
        click.echo(f"redriven {len(moved)} message(s) {'to ' + target if target else 'to their handlers'}, attempts reset: {', '.join(map(str, moved))}")


@command.command()
@common
@click.pass_context
def supports(ctx: click.Context, /, **given: Any) -> None:
    """What each cloud's dead-letter queue allows (--cloud NAME for one)."""
    where = _where(ctx, **given)
    from corefn.adapters import installed_clouds
    from corefn.deadletters import OPERATIONS, open_dead_letters

    rows: dict[str, dict[str, str | None]] = {}
    for cloud in [where.cloud] if where.cloud else installed_clouds():
        try:
            rows[str(cloud)] = dict(open_dead_letters(str(cloud), {}).supports)
        except CorefnError as exc:
            rows[str(cloud)] = dict.fromkeys(OPERATIONS, str(exc))
    if where.as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for cloud, table in rows.items():
        click.echo(f"{cloud}:")
        for operation in OPERATIONS:
            why = table.get(operation, "not implemented")
            click.echo(f"  {operation.replace('_', ' '):<12} {'yes' if why is None else 'no: ' + why}")
