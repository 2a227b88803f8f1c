"""The warm-up planner reproduces the published example figure by figure, then corrects it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

from corefn import facts
from corefn.cli import main
from corefn.cost import price_sets, usd
from corefn.cost.warmup import WarmupPlan, published
from corefn.errors import ConfigurationError

EXAMPLE = ["cost", "--warmup", "--functions", "5", "--memory", "256", "--interval", "5", "--ping-seconds", "1",
           "--days", "31", "--prices", "2023-ap-northeast-2"]  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> WarmupPlan:
    return WarmupPlan(functions=5, memory=256, interval=5, ping_seconds=Decimal(1), days=31)


@pytest.fixture(scope="module")
def figures(plan: WarmupPlan) -> dict[str, Decimal]:
    return published(plan, price_sets(facts.load("aws"))["2023-ap-northeast-2"])


def test_runs(plan: WarmupPlan) -> None:
    assert plan.runs_per_hour == 12
    assert plan.runs == 8928  # 12 an hour x 24 x 31


def test_seconds(plan: WarmupPlan) -> None:
    assert plan.seconds_per_run == 5  # the warmer's 1 s + 4 pings x 1 s
    assert plan.seconds == 44640


def test_gb_seconds(plan: WarmupPlan) -> None:
    assert plan.gb_seconds == 11160


@pytest.mark.parametrize(
    ("figure", "expected"),
    [("scheduler", "0.008928"), ("compute", "0.186037"), ("requests", "0.001786"), ("corrected_requests", "0.008928")],
)
def test_charges(figures: dict[str, Decimal], figure: str, expected: str) -> None:
    assert usd(figures[figure]) == expected


def test_totals(figures: dict[str, Decimal], plan: WarmupPlan) -> None:
    assert usd(figures["scheduler"] + figures["compute"] + figures["requests"]) == "0.196751"
    assert plan.invocations == 44640
    assert usd(figures["scheduler"] + figures["compute"] + figures["corrected_requests"]) == "0.203893"


def test_money_is_exact_decimal(figures: dict[str, Decimal]) -> None:
    assert figures["compute"] == Decimal("0.1860372")  # 11,160 x 0.00001667, no float residue


def test_command_prints_the_example_arithmetic_then_the_correction() -> None:
    result = CliRunner().invoke(main, EXAMPLE)
    assert result.exit_code == 0, result.output
    out = result.output
    for line in [
        "  runs      12 an hour x 24 x 31 = 8,928 runs",
        "  duration  8,928 runs x 5 s (1 s warmer + 4 pings x 1 s) = 44,640 s",
        "  scheduler 8,928 events x 1.00 USD / 1,000,000 = 0.008928 USD",
        "  compute   11,160 GB-s x 0.00001667 USD = 0.186037 USD",
        "  requests  8,928 requests x 0.20 USD / 1,000,000 = 0.001786 USD",
        "  total     0.008928 + 0.186037 + 0.001786 = 0.196751 USD a month",
        "  requests  44,640 requests x 0.20 USD / 1,000,000 = 0.008928 USD",
        "  total     0.008928 + 0.186037 + 0.008928 = 0.203893 USD a month (+0.007142)",
    ]:
        assert line in out.splitlines(), line
    assert out.index("0.196751") < out.index("0.203893") < out.index("today's list prices") < out.index("Caveat")
    assert "2026-ap-northeast-2" in out  # today's Seoul prices for the same plan
    for cloud in ("azure", "gcp"):
        assert f"  {cloud} " in out
    assert "openwhisk  no list price" in out
    assert "150 against 100 warmed instances still cold-starts 50" in out


def test_warmup_errors() -> None:
    with pytest.raises(ConfigurationError):
        WarmupPlan(functions=0, memory=256, interval=5, ping_seconds=Decimal(1), days=31)
    result = CliRunner().invoke(main, ["cost", "--warmup", "--prices", "1999-nowhere"])
    assert result.exit_code == 2 and "1999-nowhere" in result.output
