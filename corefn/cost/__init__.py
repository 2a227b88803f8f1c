"""``corefn cost``: what an app costs a month on each cloud, handler by handler, from list prices.

Prices are data in each adapter's ``facts/prices.toml`` (read through :mod:`corefn.facts`). A file
holds named *sets* (one region at one date: ``2026-us-east-1``, ``2023-ap-northeast-2``) and
``[meta] current``, the set used unless ``--prices`` names another. Each row of a set prices one
*meter* of a handler's usage:

``invocations``   calls of the handler (function requests, scheduler events, gateway requests,
                  topic publishes: the row's ``when`` says which triggers it applies to);
``gb_seconds``    invocations x duration x memory (GB = 1024 MB, as AWS, Azure and Cloud Run bill);
                  the billed memory is the smallest of ``memory_sizes`` that fits when the row lists
                  instance sizes, else the handler's rounded up to ``memory_step`` (``memory_max`` caps it);
``vcpu_seconds``  invocations x duration x the vCPU share the memory size gets (``vcpu_by_memory``);
``jobs``          one per timer handler a month (Cloud Scheduler bills jobs, not runs);
``queue_requests`` one send per message plus one receive and one delete per batch (SQS);
``message_bytes`` ``message_bytes`` per message on each of ``requests_per_message`` requests
                  (Pub/Sub bills bytes, at least 1,000 per publish and per push).

``price`` is USD per ``per`` units; ``free`` units a month are the account's free tier, applied
to the cloud's total (never per handler) and only with ``--free-tier``. ``when`` conditions work
as in ``limits.toml`` (:mod:`corefn.limits._rows`).

Usage comes from the command line (``--invocations NAME=N``, ``--duration NAME=SECONDS``) or the
declaration: a timer's runs are counted from its schedule, memory is the ``memory`` option; what
neither gives is a stated default (:data:`DEFAULTS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from corefn.cost._prices import PriceRow, PriceSet, current_set, latest_in_region, no_price_reason, price_sets
from corefn.limits import _rows

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

#: what a handler is assumed to do when neither the flags nor its options say
DEFAULT_INVOCATIONS = 1_000_000
DEFAULT_DURATION = Decimal("1")
DEFAULT_MEMORY = 256  # MB: what corefn deploy writes (AWS Globals, GCP's and OpenWhisk's default)
DEFAULTS = {"invocations": DEFAULT_INVOCATIONS, "duration": DEFAULT_DURATION, "memory": DEFAULT_MEMORY}
#: options.warm: the generators ping each warm function every 5 minutes; a ping short-circuits
WARM_INTERVAL_MINUTES = 5
WARM_PING_SECONDS = Decimal("0.01")
CENT = Decimal("0.000001")


def count(value: Decimal | int) -> str:
    """A quantity with thousands separators and no trailing zeros (``8,928``, ``5.5``)."""
    number = Decimal(value)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number.normalize():,f}"


def usd(amount: Decimal) -> str:
    """Money as printed: 6 decimals, half up (the warm-up example's precision)."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP)}"


@dataclass(frozen=True, slots=True)
class Usage:
    """One handler's month: how often it runs, how long, at what size, and where each figure came
    from (``basis``: figure → "flag", "option memory=512", "schedule ...", "default")."""

    handler: str
    kind: str
    invocations: Decimal
    duration: Decimal
    memory: int
    batch_size: int = 1
    ordered: bool = False
    provider: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    basis: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Charge:
    handler: str
    row: PriceRow
    quantity: Decimal
    amount: Decimal


def timer_runs(schedule: str, tz: str, days: int) -> int:
    """How many times ``schedule`` fires in ``days`` days (counted from 2026-01-01 in ``tz``)."""
    from cronsim import CronSim

    zone = ZoneInfo(tz)
    start = datetime(2026, 1, 1, tzinfo=zone) - timedelta(microseconds=1)
    until = datetime(2026, 1, 1, tzinfo=zone) + timedelta(days=days)
    calls = 0
    for tick in CronSim(schedule, start):
        if tick >= until:
            break
        calls += 1
    return calls


def usage_of(
    app: App, spec: HandlerSpec, invocations: Mapping[str, int], durations: Mapping[str, Decimal], days: int
) -> list[Usage]:
    """The handler's usage, plus its warm-up pings when ``warm=True``."""
    basis: dict[str, str] = {}
    trigger: Any = spec.trigger
    if spec.name in invocations:
        calls, basis["invocations"] = Decimal(invocations[spec.name]), "from --invocations"
    elif spec.kind == "timer":
        calls = Decimal(timer_runs(trigger.schedule, trigger.tz, days))
        basis["invocations"] = f"from schedule {trigger.schedule!r} ({trigger.tz}) over {days} days"
    else:
        calls, basis["invocations"] = Decimal(DEFAULT_INVOCATIONS), f"default {DEFAULT_INVOCATIONS:,} a month"
    if spec.name in durations:
        duration, basis["duration"] = durations[spec.name], "from --duration"
    elif spec.options.timeout is not None and Decimal(str(spec.options.timeout)) < DEFAULT_DURATION:
        duration, basis["duration"] = Decimal(str(spec.options.timeout)), "option timeout (under the 1 s default)"
    else:
        duration, basis["duration"] = DEFAULT_DURATION, f"default {DEFAULT_DURATION} s"
    memory = spec.options.memory or DEFAULT_MEMORY
    basis["memory"] = f"from option memory={memory}" if spec.options.memory else "default 256 MB (what corefn deploy writes)"
    provider = {**app.defaults.provider, **spec.options.provider}
    found = [Usage(spec.name, spec.kind, calls, duration, memory, spec.options.batch_size or 1, spec.ordered, provider, basis)]
    if spec.options.warm:
        pings = Decimal(len(range(0, 60, WARM_INTERVAL_MINUTES)) * 24 * days)
        found.append(Usage(f"{spec.name} (warm-up)", "timer", pings, WARM_PING_SECONDS, memory, 1, False, provider,
                           {"invocations": f"option warm: a ping every {WARM_INTERVAL_MINUTES} min over {days} days",
                            "duration": "a ping short-circuits: 10 ms assumed", "memory": basis["memory"]}))  # fmt: skip
    return found


def quantity(row: PriceRow, usage: Usage) -> Decimal:
    if row.meter == "invocations":
        return usage.invocations
    if row.meter == "gb_seconds":
        return usage.invocations * usage.duration * Decimal(row.billed_memory(usage.memory)) / 1024
    if row.meter == "vcpu_seconds":
        return usage.invocations * usage.duration * row.vcpu(usage.memory)
    if row.meter == "jobs":
        return Decimal(1)
    if row.meter == "message_bytes":  # each message billed at the row's size on every request it rides
        return usage.invocations * row.requests_per_message * row.message_bytes
    # queue_requests: a send per message, a receive and a delete per batch
    return usage.invocations + 2 * usage.invocations / Decimal(max(usage.batch_size, 1))


def charges(usage: Usage, prices: PriceSet) -> list[Charge]:
    context = {key: str(value) for key, value in prices.options.items()}
    context.update({k: str(v) for k, v in usage.provider.get(prices.cloud, {}).items() if not isinstance(v, Mapping)})
    context["kind"] = usage.kind
    context["ordered"] = "true" if usage.ordered else "false"
    found = []
    for row in prices.rows:
        if _rows.matches({"when": list(row.when)}, context):
            amount = quantity(row, usage)
            found.append(Charge(usage.handler, row, amount, amount * row.price / row.per))
    return found


def free_tier_credit(found: Iterable[Charge]) -> tuple[Decimal, list[tuple[PriceRow, Decimal]]]:
    """What the cloud's free tier takes off a total, and the free quantity applied to each row.
    Rows sharing a ``free_group`` share one allowance (SQS standard and FIFO requests, Pub/Sub
    throughput of queues, topics and streams), spent in the order the rows are listed."""
    by_row: dict[str, tuple[PriceRow, Decimal]] = {}
    for charge in found:
        row, used = by_row.get(charge.row.name, (charge.row, Decimal(0)))
        by_row[charge.row.name] = (row, used + charge.quantity)
    left: dict[str, Decimal] = {}
    credit, applied = Decimal(0), []
    for row, used in by_row.values():
        if row.free:
            remaining = left.get(row.free_group, row.free)
            free = min(used, remaining)
            left[row.free_group] = remaining - free
            credit += free * row.price / row.per
            applied.append((row, free))
    return credit, applied


__all__ = [
    "DEFAULTS", "Charge", "PriceRow", "PriceSet", "Usage", "charges", "count", "current_set", "free_tier_credit",
    "latest_in_region", "no_price_reason", "price_sets", "quantity", "timer_runs", "usage_of", "usd",
]  # fmt: skip
