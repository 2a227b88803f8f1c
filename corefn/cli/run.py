"""``corefn run APP``: the whole app on this machine, every trigger with its provider's semantics.

See :mod:`corefn.local.runner` for what runs and :mod:`corefn.local.store` for the delivery
guarantees. Exit status: 0, or 1 with ``--until-idle`` when something was dead-lettered; 2 for a
usage or configuration error (no traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from corefn.errors import CorefnError
from corefn.local.settings import DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_BODY


@click.command(context_settings={"show_default": True})
@click.argument("app_ref", metavar="APP")
@click.option("--host", default="127.0.0.1", help="Interface the HTTP server binds.")
@click.option("--port", default=8000, type=int, help="HTTP port.")
@click.option("--until-idle", is_flag=True, help="Process everything pending, then exit with a summary (no HTTP server).")
@click.option("--reset", is_flag=True, help="Clear the state folder first.")
@click.option("--reload", is_flag=True, help="Restart when Python files under the current folder change.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help="State folder [default: $COREFN_STATE_DIR or .corefn]")
@click.option("--max-attempts", default=5, type=click.IntRange(1), help="Deliveries before a message is dead-lettered (handlers may declare their own).")
@click.option("--timeout", default=DEFAULT_HTTP_TIMEOUT, type=float, help="Seconds before an HTTP request gets a 504 (API Gateway: 29).")
@click.option("--max-body-size", default=DEFAULT_MAX_BODY, type=click.IntRange(0), help="Largest HTTP request body in bytes (larger: 413).")
@click.option("--retry-delay", default=0.5, type=float, help="First retry back-off in seconds, doubled at each attempt.")
@click.option("--concurrency", default=4, type=click.IntRange(1), help="Parallel deliveries per unordered handler.")
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    metavar="BUCKET=DIR",
    help="Upload every file under DIR into object store BUCKET through its sink (raising storage events); files already there unchanged are skipped. Repeatable.",
)
@click.option("--now", hidden=True, help="Start the timers' clock at this ISO 8601 instant (tests, demos).")
@click.option("--clock-speed", hidden=True, type=float, help="Make the timers' clock run this many times faster.")
def command(
    app_ref: str,
    host: str,
    port: int,
    until_idle: bool,
    reset: bool,
    reload: bool,
    state: Path | None,
    max_attempts: int,
    timeout: float,
    max_body_size: int,
    retry_delay: float,
    concurrency: int,
    seeds: tuple[str, ...],
    now: str | None,
    clock_speed: float | None,
) -> None:
    """Run APP (module:attribute or path/to/file.py:attribute) on the local runtime."""
    if state is not None:
        os.environ["COREFN_STATE_DIR"] = str(state)
    if now:
        os.environ["COREFN_LOCAL_NOW"] = now
    if clock_speed:
        os.environ["COREFN_LOCAL_CLOCK_SPEED"] = str(clock_speed)
    if reload:
        from corefn.local.reload import supervise

        sys.exit(supervise([a for a in sys.argv[1:] if a != "--reload"]))
    pairs = [_seed_pair(text) for text in seeds]
    try:
        status = _run(app_ref, host, port, until_idle, reset, max_attempts, timeout, max_body_size, retry_delay, concurrency, pairs)
    except CorefnError as exc:
        click.echo(f"corefn run: {exc}", err=True)
        sys.exit(2)
    sys.exit(status)


def _seed_pair(text: str) -> tuple[str, Path]:
    bucket, sep, folder = text.partition("=")
    if not sep or not bucket or not folder:
        raise click.BadParameter(f"{text!r}: expected BUCKET=DIR", param_hint="--seed")
    path = Path(folder)
    if not path.is_dir():
        raise click.BadParameter(f"{folder!r} is not a folder", param_hint="--seed")
    return bucket, path


def _run(
    app_ref: str, host: str, port: int, until_idle: bool, reset: bool, max_attempts: int, timeout: float,
    max_body: int, retry_delay: float, concurrency: int, seeds: list[tuple[str, Path]],
) -> int:
    from corefn.loader import load_app
    from corefn.local.runner import Runtime, prepare_state
    from corefn.local.settings import Settings
    from corefn.log import configure
    from corefn.sinks import state_dir

    os.environ["COREFN_RUNTIME"] = "local"  # local defaults for unconfigured sinks, even beside a cloud's variables
    configure("local")
    state = state_dir()
    prepare_state(state, reset)
    app = load_app(app_ref)
    settings = Settings(
        state=state, host=host, port=port, until_idle=until_idle, max_attempts=max_attempts, http_timeout=timeout,
        max_body=max_body, retry_delay=retry_delay, concurrency=concurrency,
    )
    runtime = Runtime(app, settings)
    runtime.start()
    if seeds:
        from corefn.local.seed import seed

        for bucket, folder in seeds:
            runtime.console.line(seed(app, bucket, folder))
    if until_idle:
        return runtime.run_until_idle()
    from corefn.local.server import LocalGateway, serve, serve_in_background
    from corefn.local.webconsole import WebConsole

    gateway = LocalGateway(app, settings, runtime.console, web=WebConsole(runtime))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host

    def started() -> None:
        runtime.console.line(f"listening on http://{host}:{port}; console: http://{shown}:{port}/_corefn/")

    if app.handlers_of("http"):
        try:
            serve(gateway, host, port, on_started=started)
        finally:
            runtime.stop()
        return 0
    if _port_free(host, port):  # no route of its own: the console only, beside the runtime
        serve_in_background(gateway, host, port, on_started=started)
    else:
        runtime.console.warn(f"port {port} is taken: no console (the app has no HTTP route; pass --port)")
    runtime.wait_forever()
    return 0


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
