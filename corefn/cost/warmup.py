"""The warm-up planner: what keeping functions warm with a timer costs, shown with its arithmetic.

The plan is the common one: a warmer function on an N-minute timer runs ``ping_seconds`` itself and
pings each of the other functions, which each run ``ping_seconds`` too. It reproduces a published
example (5 functions, 256 MB, every 5 minutes, 1 s each, 31 days, AWS Seoul 2023 prices) figure
by figure, then corrects it: the example bills one Lambda request per run, but every run makes one
invocation per function, and each is a billed request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from corefn.cost import Charge, PriceSet, Usage, charges, count, free_tier_credit, usd
from corefn.errors import ConfigurationError

CAVEAT = (
    "Caveat: warming covers only the warmed concurrency. Each run pings every function once, so it keeps one\n"
    "instance of each warm; a burst larger than the warmed instances still cold-starts the rest (a burst of\n"
    "150 against 100 warmed instances still cold-starts 50). Warming N instances takes N concurrent pings\n"
    "per function per run, and N times the requests and GB-seconds above."
)


@dataclass(frozen=True, slots=True)
class WarmupPlan:
    functions: int
    memory: int
    interval: int
    ping_seconds: Decimal
    days: int

    def __post_init__(self) -> None:
        if self.functions < 1 or self.memory < 1 or self.days < 1 or self.ping_seconds <= 0:
            raise ConfigurationError("warm-up plan: functions, memory, days and ping seconds must be positive")
        if not 1 <= self.interval <= 60:
            raise ConfigurationError("warm-up plan: the interval is minutes of a '*/N * * * *' timer, 1 to 60")

    @property
    def runs_per_hour(self) -> int:
        """``*/N`` fires at minutes 0, N, 2N, ... of each hour (12 an hour for N = 5)."""
        return len(range(0, 60, self.interval))

    @property
    def runs(self) -> int:
        return self.runs_per_hour * 24 * self.days

    @property
    def seconds_per_run(self) -> Decimal:
        """The warmer's own run plus one run per pinged function."""
        return self.ping_seconds * self.functions

    @property
    def seconds(self) -> Decimal:
        return self.runs * self.seconds_per_run

    @property
    def gb(self) -> Decimal:
        return Decimal(self.memory) / 1024

    @property
    def gb_seconds(self) -> Decimal:
        return self.seconds * self.gb

    @property
    def invocations(self) -> int:
        """What the cloud bills as requests: every function, every run."""
        return self.runs * self.functions

    def usages(self) -> list[Usage]:
        """The plan as handler usages: the warmer (a timer) and the pinged functions (direct invokes)."""
        runs = Decimal(self.runs)
        warmer = Usage("warmer", "timer", runs, self.ping_seconds, self.memory)
        pinged = Usage(f"{self.functions - 1} pinged functions", "invoke", runs * (self.functions - 1), self.ping_seconds, self.memory)
        return [warmer, pinged] if self.functions > 1 else [warmer]


def published(plan: WarmupPlan, prices: PriceSet) -> dict[str, Decimal]:
    """The example's three charges: one scheduler event and one request per run, compute for all."""
    rows = {row.name: row for row in prices.rows}
    missing = {"scheduler", "compute", "requests"} - set(rows)
    if missing:
        raise ConfigurationError(f"price set {prices.name!r} has no {', '.join(sorted(missing))} row for the warm-up example")
    return {
        "scheduler": plan.runs * rows["scheduler"].price / rows["scheduler"].per,
        "compute": plan.gb_seconds * rows["compute"].price / rows["compute"].per,
        "requests": plan.runs * rows["requests"].price / rows["requests"].per,
        "corrected_requests": plan.invocations * rows["requests"].price / rows["requests"].per,
    }


def _total(parts: list[Decimal]) -> Decimal:
    return sum(parts, Decimal(0))


def render(plan: WarmupPlan, example: PriceSet, today: Mapping[str, PriceSet | str]) -> str:
    """The plan's arithmetic under ``example``, corrected, then under each cloud's ``today`` set
    (or the reason a cloud has none)."""
    rows = {row.name: row for row in example.rows}
    fig = published(plan, example)
    r = {key: usd(value) for key, value in fig.items()}
    pings = plan.functions - 1
    lines = [
        f"Warm-up plan: {plan.functions} functions at {plan.memory} MB, a {plan.interval}-minute timer, "
        f"{plan.ping_seconds} s per run of each function, {plan.days} days",
        f"  runs      {plan.runs_per_hour} an hour x 24 x {plan.days} = {count(plan.runs)} runs",
        f"  duration  {count(plan.runs)} runs x {count(plan.seconds_per_run)} s ({plan.ping_seconds} s warmer + {pings} pings x "
        f"{plan.ping_seconds} s) = {count(plan.seconds)} s",
        f"  compute   {count(plan.seconds)} s x {plan.gb.normalize()} GB = {count(plan.gb_seconds)} GB-s",
        "",
        f"As the published example prices it (one scheduler event and one request per run), with prices "
        f"{example.name} ({example.cloud} {example.region}, {example.date}):",
        f"  scheduler {count(plan.runs)} events x {rows['scheduler'].rate()} = {r['scheduler']} USD",
        f"  compute   {count(plan.gb_seconds)} GB-s x {rows['compute'].rate()} = {r['compute']} USD",
        f"  requests  {count(plan.runs)} requests x {rows['requests'].rate()} = {r['requests']} USD",
        f"  total     {r['scheduler']} + {r['compute']} + {r['requests']} = "
        f"{usd(fig['scheduler'] + fig['compute'] + fig['requests'])} USD a month",
        "",
        f"Corrected: every run invokes all {plan.functions} functions (the warmer and {pings} pings), and each invocation is a",
        f"billed request: {count(plan.runs)} x {plan.functions} = {count(plan.invocations)} requests, not {count(plan.runs)}.",
        f"  requests  {count(plan.invocations)} requests x {rows['requests'].rate()} = {r['corrected_requests']} USD",
        f"  total     {r['scheduler']} + {r['compute']} + {r['corrected_requests']} = "
        f"{usd(fig['scheduler'] + fig['compute'] + fig['corrected_requests'])} USD a month "
        f"(+{usd(fig['corrected_requests'] - fig['requests'])})",
        "",
        "The same plan at today's list prices (monthly USD; the free tier is account-wide, so it only helps if",
        "nothing else uses it):",
    ]
    for cloud, prices in today.items():
        if isinstance(prices, str):
            lines.append(f"  {cloud:<10} no list price: {prices}")
            continue
        found: list[Charge] = [c for usage in plan.usages() for c in charges(usage, prices)]
        by_row: dict[str, Decimal] = {}
        for charge in found:
            by_row[charge.row.name] = by_row.get(charge.row.name, Decimal(0)) + charge.amount
        total = _total(list(by_row.values()))
        credit, _ = free_tier_credit(found)
        parts = ", ".join(f"{name} {usd(amount)}" for name, amount in by_row.items())
        lines.append(f"  {cloud:<10} {usd(total)} ({parts}); with the free tier {usd(total - credit)}"
                     f"  [prices {prices.name}, {prices.region}, {prices.date}]")  # fmt: skip
        used = {charge.row.name: charge.row for charge in found}
        for row in used.values():
            note = f" ({row.note})" if row.note else ""
            lines.append(f"             {row.name}: {row.rate()} per {row.per_unit}{note}  {row.source}")
    lines += ["", CAVEAT]
    return "\n".join(lines)


__all__ = ["CAVEAT", "WarmupPlan", "published", "render"]
