"""``corefn policy APP [--cloud NAME ...] [--json]``: per handler and cloud, what the retry policy
compiles to, and which part a cloud cannot honour, and why.

For each handler: the portable policy (:func:`corefn.policy.retry_policy`: how the trigger
delivers, attempts, back-off, dead letter, record age) and whether it is idempotent; then, per
cloud, the fields the generated template carries and the adapter's notes on what that cloud does
differently (from its ``compile_policy``; an adapter that has not been taught retry policies
says so); ``local`` is what ``corefn run`` does with the same declaration.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corefn.errors import CorefnError


def _local_defaults() -> tuple[int, float, float]:
    """What ``corefn run`` does when neither the handler nor ``--max-attempts`` / ``--retry-delay``
    say: the runtime's own ``Settings`` defaults (no state folder is touched), so this table cannot
    drift from them."""
    from pathlib import Path

    from corefn.local.settings import Settings

    default = Settings(state=Path(".corefn"))
    return default.max_attempts, default.retry_delay, default.retry_cap


LOCAL_ATTEMPTS, LOCAL_FIRST_BACKOFF, LOCAL_BACKOFF_CAP = _local_defaults()


def portable(policy: Any, spec: Any) -> dict[str, Any]:
    dead = policy.dead_letter
    from corefn.idempotency import record_sink

    return {
        "delivery": policy.delivery, "max_attempts": policy.max_attempts, "backoff": policy.backoff,
        "timeout": policy.timeout, "max_age": policy.max_age, "bisect": policy.bisect,
        "dead_letter": None if dead is None else {"name": dead.name, "kind": dead.type, "declared": dead.declared},
        "idempotency_records": record_sink(spec),
    }


def local(policy: Any, spec: Any) -> dict[str, Any]:
    """The local runtime's reading of the policy (corefn.local.workers and settings)."""
    if policy.delivery == "sync":
        return {"settings": {"retries": 0}, "notes": ["the caller gets the error; nothing is retried (as on every cloud)"]}
    notes: list[str] = []
    attempts: Any = spec.options.max_attempts or LOCAL_ATTEMPTS
    if policy.retries_forever:
        notes.append(f"max_attempts=0 (until the record expires) is not honoured locally: nothing expires there, so {LOCAL_ATTEMPTS} attempts (--max-attempts)")
    if policy.max_age is not None:
        notes.append("max_age is not enforced locally: records wait in the store until handled or dead-lettered")
    if policy.bisect:
        notes.append("no bisect locally: an ordered handler takes one record per partition at a time, so the failing record is known")
    dead = policy.dead_letter
    return {
        "settings": {
            "max_attempts": attempts,
            "backoff": f"{policy.backoff or LOCAL_FIRST_BACKOFF:g} s, doubled per attempt, at most {LOCAL_BACKOFF_CAP:g} s",
            "dead_letter": "the state folder's dead table" + (f", and published to {dead.name}" if dead is not None else ""),
        },
        "notes": notes,
    }


def compile_all(app: Any, clouds: list[str]) -> dict[str, Any]:
    from corefn.adapters import get_adapter
    from corefn.policy import retry_policy

    out: dict[str, Any] = {}
    for spec in app.handlers:
        policy = retry_policy(app, spec)
        entry: dict[str, Any] = {"kind": spec.kind, "policy": portable(policy, spec), "clouds": {}}
        for cloud in clouds:
            if cloud == "local":
                entry["clouds"][cloud] = local(policy, spec)
                continue
            compile_one = get_adapter(cloud).compile_policy
            if compile_one is None:
                entry["clouds"][cloud] = {
                    "settings": None, "notes": [f"the {cloud} adapter does not compile retry policies yet: its deployment uses the platform's defaults"],
                }
                continue
            compiled = compile_one(app, policy)
            entry["clouds"][cloud] = {"settings": dict(compiled.settings), "notes": list(compiled.notes)}
        out[spec.name] = entry
    return out


@click.command()
@click.argument("app_ref", metavar="APP")
@click.option("--cloud", "clouds", multiple=True, help="A cloud, or 'local' (repeatable; default: local and every built-in cloud).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def command(app_ref: str, clouds: tuple[str, ...], as_json: bool) -> None:
    """Print each handler's retry policy as every cloud compiles it, and what a cloud cannot honour."""
    from corefn.adapters import installed_clouds
    from corefn.loader import load_app

    try:
        app = load_app(app_ref)
        out = compile_all(app, list(clouds) or ["local", *installed_clouds()])
    except CorefnError as exc:
        click.echo(f"corefn policy: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
        return
    for name, entry in out.items():
        p = entry["policy"]
        dead = p["dead_letter"]["name"] if p["dead_letter"] else "the cloud's convention"
        attempts = "until the record expires" if p["max_attempts"] == 0 else p["max_attempts"]
        extra = f", idempotent (records in {p['idempotency_records']})" if p["idempotency_records"] else ""
        if p["delivery"] == "sync":
            click.echo(f"{name} ({entry['kind']}): synchronous, the caller gets the error{extra}")
        else:
            click.echo(f"{name} ({entry['kind']}, {p['delivery']}): attempts {attempts}, backoff {p['backoff'] or 'default'}, dead letter {dead}{extra}")
        for cloud, compiled in entry["clouds"].items():
            settings = compiled["settings"]
            fields = "-" if not settings else ", ".join(f"{k}={_short(v)}" for k, v in settings.items())
            click.echo(f"  {cloud:<10} {fields}")
            for note in compiled["notes"]:
                click.echo(f"  {'':<10} ! {note}")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        if set(value) == {"Type", "name"}:  # a compiled destination; no name: the one the template creates
            return f"{value['Type']} {value['name'] or '(created by the template)'}"
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)
