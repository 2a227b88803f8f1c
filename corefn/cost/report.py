"""The ``corefn cost APP`` report: handlers down, clouds across, then the arithmetic behind each
cell, the prices used (set, region, date, page) and the assumptions (which flag, option or default
each figure came from)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from corefn.app import App
from corefn.cost import Charge, PriceSet, Usage, charges, count, free_tier_credit, usage_of, usd
from corefn.cost._prices import current_set, no_price_reason, price_sets
from corefn.errors import ConfigurationError
from corefn.facts import CloudFacts


def choose_sets(loaded: Mapping[str, CloudFacts], price_set: str | None) -> dict[str, PriceSet | str]:
    """Each cloud's price set: ``price_set`` where the cloud has it, else its current one, else why none."""
    chosen: dict[str, PriceSet | str] = {}
    for cloud, cloud_facts in loaded.items():
        sets = price_sets(cloud_facts)
        picked = sets.get(price_set) if price_set else None
        chosen[cloud] = picked or current_set(cloud_facts) or no_price_reason(cloud_facts)
    if price_set and not any(isinstance(s, PriceSet) and s.name == price_set for s in chosen.values()):
        raise ConfigurationError(f"no installed cloud has the price set {price_set!r}")
    return chosen


def estimate(
    app: App, loaded: Mapping[str, CloudFacts], invocations: Mapping[str, int], durations: Mapping[str, Decimal],
    days: int, price_set: str | None,
) -> tuple[list[Usage], dict[str, PriceSet | str], dict[str, list[Charge]]]:  # fmt: skip
    """The usages, the price set per cloud, and every charge per cloud."""
    unknown = (set(invocations) | set(durations)) - {spec.name for spec in app.handlers}
    if unknown:
        raise ConfigurationError(f"app {app.name!r} has no handler {', '.join(sorted(unknown))}")
    usages = [u for spec in app.handlers for u in usage_of(app, spec, invocations, durations, days)]
    sets = choose_sets(loaded, price_set)
    found = {cloud: [c for u in usages for c in charges(u, s)] if isinstance(s, PriceSet) else [] for cloud, s in sets.items()}
    return usages, sets, found


def _exact(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros or exponent (``5.73335``, ``8640``)."""
    return f"{value.normalize():f}"


def unpriced(usages: list[Usage], sets: Mapping[str, PriceSet | str], found: Mapping[str, list[Charge]]) -> dict[str, list[str]]:
    """Per cloud with prices, the handlers no row of its set applies to (Azure's Premium plan bills
    instances, not executions): shown as such, never as a cost of 0."""
    return {
        cloud: [u.handler for u in usages if not any(c.handler == u.handler for c in found[cloud])]
        for cloud, chosen in sets.items() if isinstance(chosen, PriceSet)
    }  # fmt: skip


def as_json(
    app: App, loaded: Mapping[str, CloudFacts], invocations: Mapping[str, int], durations: Mapping[str, Decimal],
    days: int, price_set: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The estimate as data (amounts as decimal strings, exact): per cloud its price set, totals
    with and without the free tier, each handler's amount and every charge; per handler its usage
    and where each figure came from."""
    usages, sets, found = estimate(app, loaded, invocations, durations, days, price_set)
    clouds: dict[str, Any] = {}
    for cloud, chosen in sets.items():
        if isinstance(chosen, str):
            clouds[cloud] = {"prices": None, "reason": chosen}
            continue
        total = sum((c.amount for c in found[cloud]), Decimal(0))
        credit, _ = free_tier_credit(found[cloud])
        clouds[cloud] = {
            "prices": {"set": chosen.name, "region": chosen.region, "date": chosen.date},
            "total": _exact(total), "total_with_free_tier": _exact(total - credit),
            "handlers": {u.handler: _exact(sum((c.amount for c in found[cloud] if c.handler == u.handler), Decimal(0))) for u in usages},
            "unpriced": unpriced(usages, sets, found)[cloud],
            "charges": [
                {"handler": c.handler, "row": c.row.name, "quantity": _exact(c.quantity), "unit": c.row.unit,
                 "price": _exact(c.row.price), "per": _exact(c.row.per), "amount": _exact(c.amount), "source": c.row.source}
                for c in found[cloud]
            ],
        }  # fmt: skip
    handlers = {
        u.handler: {"kind": u.kind, "invocations": _exact(u.invocations), "duration_s": _exact(u.duration), "memory_mb": u.memory,
                    "basis": dict(u.basis)}
        for u in usages
    }  # fmt: skip
    return {"app": app.name, "days": days, "currency": "USD", "handlers": handlers, "clouds": clouds}


def render_app(
    app: App, loaded: Mapping[str, CloudFacts], invocations: Mapping[str, int], durations: Mapping[str, Decimal],
    days: int, price_set: str | None, free_tier: bool,
) -> str:  # fmt: skip
    usages, sets, found = estimate(app, loaded, invocations, durations, days, price_set)
    missing = unpriced(usages, sets, found)
    clouds = list(sets)
    width = max([len(u.handler) for u in usages] + [len("with free tier")])
    header = f"{'handler':<{width}}  {'invocations':>12}  {'duration':>8}  {'memory':>8}" + "".join(f"  {c:>12}" for c in clouds)
    lines = [f"{app.name}: monthly cost estimate in USD ({days} days)", header]
    for usage in usages:
        cells: list[str] = []
        for cloud in clouds:
            if isinstance(sets[cloud], str):
                cells.append("n/a")
            elif usage.handler in missing[cloud]:
                cells.append("unpriced")
            else:
                cells.append(usd(sum((c.amount for c in found[cloud] if c.handler == usage.handler), Decimal(0))))
        lines.append(f"{usage.handler:<{width}}  {count(usage.invocations):>12}  {str(usage.duration) + ' s':>8}  "
                     f"{str(usage.memory) + ' MB':>8}" + "".join(f"  {cell:>12}" for cell in cells))  # fmt: skip
    totals = {cloud: sum((c.amount for c in found[cloud]), Decimal(0)) for cloud in clouds}
    lines.append(f"{'total':<{width}}  {'':>12}  {'':>8}  {'':>8}"
                 + "".join(f"  {usd(totals[c]) if isinstance(sets[c], PriceSet) else 'n/a':>12}" for c in clouds))  # fmt: skip
    if free_tier:
        free_cells: list[str] = []
        for cloud in clouds:
            credit, _ = free_tier_credit(found[cloud])
            free_cells.append(usd(totals[cloud] - credit) if isinstance(sets[cloud], PriceSet) else "n/a")
        lines.append(f"{'with free tier':<{width}}  {'':>12}  {'':>8}  {'':>8}" + "".join(f"  {cell:>12}" for cell in free_cells))
    lines += ["", "Arithmetic:"]
    for cloud in clouds:
        for charge in found[cloud]:
            row = charge.row
            lines.append(f"  {cloud} {charge.handler}: {row.name} {count(charge.quantity.quantize(Decimal('0.001')))} {row.unit} x "
                         f"{row.rate()} = {usd(charge.amount)}")  # fmt: skip
        if free_tier:
            for row, free in free_tier_credit(found[cloud])[1]:
                lines.append(f"  {cloud} free tier: {row.name} -{count(free)} {row.unit} (of {count(row.free)} a month)")
    for cloud, names in missing.items():
        chosen = sets[cloud]
        if names and isinstance(chosen, PriceSet):
            options = ", ".join(f"{k}={v}" for k, v in chosen.options.items()) or "no provider options"
            rows = "; ".join(f"{r.name} when {' and '.join(r.when)}" if r.when else r.name for r in chosen.rows)
            lines.append(f"  {cloud}: no row of set {chosen.name} applies to {', '.join(names)} (its rows: {rows}; "
                         f"defaults: {options}); not included in the total")  # fmt: skip
    lines += ["", "Prices:"]
    for cloud, chosen in sets.items():
        if isinstance(chosen, str):
            lines.append(f"  {cloud}: none ({chosen})")
            continue
        used = {c.row.name for c in found[cloud]}
        lines.append(f"  {cloud}: set {chosen.name}, region {chosen.region}, {chosen.date}")
        for row in chosen.rows:
            if row.name in used:
                note = f" ({row.note})" if row.note else ""
                allowance = f", {count(row.free)} free a month" if row.free else ""
                lines.append(f"    {row.name}: {row.rate()} per {row.per_unit}{allowance}{note} [{row.date}, {row.region}] {row.source}")
    lines += ["", "Assumptions (set them with --invocations NAME=N and --duration NAME=SECONDS):"]
    for usage in usages:
        basis = "; ".join(f"{key} {value}" for key, value in usage.basis.items())
        lines.append(f"  {usage.handler}: {basis}")
    return "\n".join(lines)
