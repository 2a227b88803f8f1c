"""``corefn cost APP [--cloud NAME ...] [--invocations NAME=N] [--duration NAME=SECONDS] [--free-tier]``
and ``corefn cost --warmup ...``: monthly cost per handler and cloud, side by side, from the
adapters' dated list prices (:mod:`corefn.cost`). Every figure says where it came from: a flag, an
option, the schedule, or a stated default; every price its set, region, date and page.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import click

from corefn.errors import ConfigurationError, CorefnError

if TYPE_CHECKING:
    from corefn.facts import CloudFacts

NOT_MODELLED = (
    "Not included: provisioned capacity billed by the hour (Kinesis shards, Event Hubs throughput units, Service Bus "
    "namespaces), storage and database sinks, Azure Storage and Service Bus operations, data transfer, logs."
)


def _pairs(values: tuple[str, ...], flag: str, kind: type) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in values:
        name, sep, number = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            value = kind(number)
            if value < 0:
                raise ValueError
        except (ValueError, InvalidOperation):
            raise click.BadParameter(f"{item!r}: expected NAME=NUMBER (a handler name and a non-negative number)", param_hint=flag) from None
        found[name] = value
    return found


@click.command()
@click.argument("app_ref", metavar="[APP]", required=False)
@click.option("--cloud", "clouds", multiple=True, help="Repeatable; every installed adapter when omitted.")
@click.option("--invocations", multiple=True, metavar="NAME=N", help="Invocations a month of handler NAME (default 1,000,000; timers: their schedule).")
@click.option("--duration", multiple=True, metavar="NAME=SECONDS", help="Seconds per invocation of handler NAME (default 1).")
@click.option("--free-tier", is_flag=True, help="Subtract each cloud's monthly free tier from its total (account-wide).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 31), help="Days in the month.")
@click.option("--prices", "price_set", metavar="SET", help="A price set name (e.g. 2023-ap-northeast-2; clouds without it use their current set), or FILE.toml with your own prices for one cloud ([meta] cloud = ...).")
@click.option("--json", "as_json", is_flag=True, help="Print APP's estimate as JSON (amounts as exact decimal strings).")
@click.option("--warmup", is_flag=True, help="Plan a warm-up timer instead of pricing APP.")
@click.option("--functions", default=5, show_default=True, type=click.IntRange(1), help="Warm-up: functions kept warm, the warmer included.")
@click.option("--memory", default=256, show_default=True, type=click.IntRange(1), help="Warm-up: memory of each function, MB.")
@click.option("--interval", default=5, show_default=True, type=click.IntRange(1, 60), help="Warm-up: minutes between runs.")
@click.option("--ping-seconds", default="1", show_default=True, help="Warm-up: seconds each function runs per ping.")
def command(
    app_ref: str | None, clouds: tuple[str, ...], invocations: tuple[str, ...], duration: tuple[str, ...], free_tier: bool,
    days: int, price_set: str | None, as_json: bool, warmup: bool, functions: int, memory: int, interval: int,
    ping_seconds: str,
) -> None:  # fmt: skip
    """Estimate APP's monthly cost on each cloud (MODULE:ATTRIBUTE or path/to/file.py:ATTRIBUTE), or plan
    a warm-up timer with --warmup (no APP)."""
    from corefn import facts
    from corefn.adapters import installed_clouds

    try:
        loaded = facts.load_all(list(clouds) or installed_clouds())
        if price_set and price_set.endswith(".toml"):
            from corefn.cost._prices import with_price_file

            loaded, price_set = with_price_file(loaded, price_set)
        if warmup:
            if app_ref:
                raise ConfigurationError("--warmup plans a timer on its own: give no APP")
            click.echo(_warmup(loaded, functions, memory, interval, ping_seconds, days, price_set))
            return
        if not app_ref:
            raise ConfigurationError("give an APP to price, or --warmup")
        counts = {k: int(str(v)) for k, v in _pairs(invocations, "--invocations", int).items()}
        seconds = {k: Decimal(str(v)) for k, v in _pairs(duration, "--duration", Decimal).items()}
        from corefn.cost.report import as_json as estimate_json
        from corefn.cost.report import render_app
        from corefn.loader import load_app

        app = load_app(app_ref)
        if as_json:
            click.echo(json.dumps({**estimate_json(app, loaded, counts, seconds, days, price_set), "not_included": NOT_MODELLED}, indent=2))
            return
        click.echo(render_app(app, loaded, counts, seconds, days, price_set, free_tier))
        click.echo(NOT_MODELLED)
    except CorefnError as exc:
        click.echo(f"corefn cost: {exc}", err=True)
        sys.exit(2)


def _warmup(
    loaded: Mapping[str, CloudFacts], functions: int, memory: int, interval: int, ping: str, days: int, price_set: str | None
) -> str:
    from corefn.cost import current_set, latest_in_region, no_price_reason, price_sets
    from corefn.cost._prices import PriceSet
    from corefn.cost.warmup import WarmupPlan, render

    try:
        ping_seconds = Decimal(ping)
    except InvalidOperation:
        raise ConfigurationError(f"--ping-seconds {ping!r} is not a number") from None
    plan = WarmupPlan(functions, memory, interval, ping_seconds, days)
    example: PriceSet | None = None
    for cloud_facts in loaded.values():
        sets = price_sets(cloud_facts)
        if price_set and price_set in sets:
            example = sets[price_set]
            break
        if not price_set and example is None:
            example = current_set(cloud_facts)
    if example is None:
        raise ConfigurationError(f"no installed cloud has the price set {price_set!r}" if price_set else "no cloud has prices")
    today: dict[str, PriceSet | str] = {}
    for cloud, cloud_facts in loaded.items():
        chosen = latest_in_region(cloud_facts, example.region) if cloud == example.cloud else current_set(cloud_facts)
        today[cloud] = chosen or no_price_reason(cloud_facts)
    return render(plan, example, today)
