"""Price sets: one cloud's list prices in one region at one date, as exact decimals.

Money is :class:`decimal.Decimal` from the TOML text on: a float would turn 0.00001667 USD into
0.0000166699999... and the warm-up example's 0.186037 into a rounding argument.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from corefn.errors import ConfigurationError
from corefn.facts import CloudFacts

#: meter → (the unit its quantities are printed in, the unit a price is per)
METER_UNITS = {
    "invocations": ("invocations", "invocation"), "gb_seconds": ("GB-s", "GB-s"), "vcpu_seconds": ("vCPU-s", "vCPU-s"),
    "jobs": ("jobs", "job"), "queue_requests": ("requests", "request"), "message_bytes": ("bytes", "byte"),
}  # fmt: skip
METERS = frozenset(METER_UNITS)


def to_decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigurationError(f"{where}: expected a number, got {value!r}")
    return Decimal(str(value))


@dataclass(frozen=True, slots=True)
class PriceRow:
    """``price`` USD per ``per`` units of ``meter``; ``free`` units a month (account-wide)."""

    name: str
    meter: str
    price: Decimal
    per: Decimal
    free: Decimal
    when: tuple[str, ...]
    region: str
    date: str
    note: str
    source: str
    vcpu_by_memory: tuple[tuple[int, Decimal], ...] = ()
    memory_step: int = 0
    memory_max: int = 0
    memory_sizes: tuple[int, ...] = ()
    message_bytes: int = 0
    requests_per_message: int = 1
    free_group: str = ""

    def rate(self) -> str:
        """``1.00 USD / 1,000,000`` or ``0.00001667 USD``: prices keep at least cents."""
        price = self.price if self.price.as_tuple().exponent <= -2 else self.price.quantize(Decimal("0.01"))  # type: ignore[operator]
        return f"{price} USD" if self.per == 1 else f"{price} USD / {self.per:,}"

    @property
    def unit(self) -> str:
        return METER_UNITS[self.meter][0]

    @property
    def per_unit(self) -> str:
        return METER_UNITS[self.meter][1]

    def billed_memory(self, memory_mb: int) -> int:
        """The memory a GB-s row bills: the smallest of ``memory_sizes`` that fits (Azure's Flex
        Consumption bills the instance size it runs on, whatever the function uses), else rounded
        up to ``memory_step`` MB, at most ``memory_max`` (its legacy Consumption plan bills observed
        memory in 128 MB steps up to 1,536 MB)."""
        if self.memory_sizes:
            return next((size for size in self.memory_sizes if size >= memory_mb), self.memory_sizes[-1])
        step = self.memory_step or 1
        billed = -(-memory_mb // step) * step
        return min(billed, self.memory_max) if self.memory_max else billed

    def vcpu(self, memory_mb: int) -> Decimal:
        """The vCPU share a function of ``memory_mb`` gets (the smallest listed size that fits)."""
        for size, share in self.vcpu_by_memory:
            if memory_mb <= size:
                return share
        return self.vcpu_by_memory[-1][1] if self.vcpu_by_memory else Decimal(0)


@dataclass(frozen=True, slots=True)
class PriceSet:
    cloud: str
    name: str
    rows: tuple[PriceRow, ...]
    options: Mapping[str, Any]

    @property
    def region(self) -> str:
        return self.rows[0].region if self.rows else ""

    @property
    def date(self) -> str:
        return max((row.date for row in self.rows), default="")


def _row(cloud: str, set_name: str, name: str, data: Mapping[str, Any]) -> PriceRow:
    where = f"corefn_{cloud}/facts/prices.toml [sets.{set_name}.{name}]"
    meter = str(data.get("meter", ""))
    if meter not in METERS:
        raise ConfigurationError(f"{where}: meter must be one of {', '.join(sorted(METERS))}, got {meter!r}")
    for key in ("price", "region", "date"):
        if key not in data:
            raise ConfigurationError(f"{where}: needs {key} (every price says its amount, region and date)")
    date = data["date"]
    vcpu = tuple((int(size), to_decimal(share, where)) for size, share in data.get("vcpu_by_memory", ()))
    return PriceRow(
        name=name, meter=meter, price=to_decimal(data["price"], where), per=to_decimal(data.get("per", 1), where),
        free=to_decimal(data.get("free", 0), where), when=tuple(str(w) for w in data.get("when", ())),
        region=str(data["region"]), date=date.isoformat() if isinstance(date, _dt.date) else str(date),
        note=str(data.get("note", "")), source=str(data.get("source", "")), vcpu_by_memory=tuple(sorted(vcpu)),
        memory_step=int(data.get("memory_step", 0)), memory_max=int(data.get("memory_max", 0)),
        memory_sizes=tuple(sorted(int(size) for size in data.get("memory_sizes", ()))),
        message_bytes=int(data.get("message_bytes", 0)), requests_per_message=int(data.get("requests_per_message", 1)),
        free_group=str(data.get("free_group", name)),
    )  # fmt: skip


def price_sets(facts: CloudFacts) -> dict[str, PriceSet]:
    """Every price set of a cloud, by name (empty for a cloud without list prices)."""
    topic = facts.topic("prices")
    options = topic.get("meta", {}).get("options", {})
    found = {}
    for set_name, rows in topic.get("sets", {}).items():
        parsed = tuple(_row(facts.cloud, set_name, name, data) for name, data in rows.items() if isinstance(data, Mapping))
        found[set_name] = PriceSet(facts.cloud, set_name, parsed, options)
    return found


def current_set(facts: CloudFacts) -> PriceSet | None:
    """The set ``[meta] current`` names: the cloud's latest list prices."""
    name = facts.topic("prices").get("meta", {}).get("current")
    return price_sets(facts).get(str(name)) if name else None


def latest_in_region(facts: CloudFacts, region: str) -> PriceSet | None:
    """The newest set of ``region`` (today's prices for a plan first priced with an older set)."""
    sets = [s for s in price_sets(facts).values() if s.region == region]
    return max(sets, key=lambda s: s.date) if sets else None


def no_price_reason(facts: CloudFacts) -> str:
    """Why a cloud has no prices: its own words (OpenWhisk is self-hosted) or a plain default."""
    operator = facts.topic("prices").get("operator")
    if isinstance(operator, Mapping) and operator.get("note"):
        return str(operator["note"])
    return f"corefn_{facts.cloud} ships no price set"


def with_price_file(loaded: Mapping[str, CloudFacts], path: str) -> tuple[dict[str, CloudFacts], str | None]:
    """``loaded`` with one cloud's prices replaced by the operator's own file (``--prices FILE``):
    the same format as an adapter's ``prices.toml`` plus ``[meta] cloud``, the cloud it prices.
    For self-hosted OpenWhisk this is the only way to a figure. Returns the facts and the file's
    ``current`` set name."""
    import tomllib
    from pathlib import Path

    from corefn.facts import iter_facts

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"--prices {path}: cannot read it ({exc})") from None
    meta = data.get("meta", {})
    cloud, checked = meta.get("cloud"), meta.get("checked")
    if cloud not in loaded:
        raise ConfigurationError(f"--prices {path}: [meta] cloud must name one of {', '.join(loaded)}, got {cloud!r}")
    if not isinstance(checked, _dt.date):
        raise ConfigurationError(f"--prices {path}: [meta] needs checked = YYYY-MM-DD (the day these prices were set)")
    for where, fact in iter_facts(data):
        if not str(fact.get("source", "")).startswith("https://"):
            raise ConfigurationError(f"--prices {path}: [{where}] needs source = \"https://...\" (where the price comes from)")
    base = loaded[cloud]
    replaced = CloudFacts(cloud, {**base.topics, "prices": data}, {**base.checked, "prices": checked})
    price_sets(replaced)  # every row checked now, with the file named in errors
    current = meta.get("current")
    return {**loaded, cloud: replaced}, str(current) if current else None
