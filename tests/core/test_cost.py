"""``corefn cost``: every price row priced against one known usage, the meters, the free tier."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from corefn import facts
from corefn.app import App
from corefn.cost import Usage, charges, current_set, free_tier_credit, price_sets, quantity, timer_runs, usage_of, usd
from corefn.cost.report import estimate
from corefn.errors import ConfigurationError
from corefn.facts import CloudFacts


@cache
def real(cloud: str) -> CloudFacts:
    return facts.load(cloud)


def handler(event: Any) -> None:
    return None


#: one million 1-second invocations at 256 MB (250,000 GB-s), as each row's trigger kind, priced
#: by hand from the provider's page: (cloud, set, row) -> (kind, provider options, quantity, USD)
ROWS: dict[tuple[str, str, str], tuple[str, dict[str, Any], str, str]] = {
    ("aws", "2023-ap-northeast-2", "scheduler"): ("timer", {}, "1000000", "1.000000"),
    ("aws", "2023-ap-northeast-2", "compute"): ("invoke", {}, "250000", "4.167500"),
    ("aws", "2023-ap-northeast-2", "requests"): ("invoke", {}, "1000000", "0.200000"),
    ("aws", "2026-ap-northeast-2", "scheduler"): ("timer", {}, "1000000", "1.000000"),
    ("aws", "2026-ap-northeast-2", "compute"): ("invoke", {}, "250000", "3.333350"),
    ("aws", "2026-ap-northeast-2", "compute_x86"): ("invoke", {"aws": {"architecture": "x86_64"}}, "250000", "4.166675"),
    ("aws", "2026-ap-northeast-2", "requests"): ("invoke", {}, "1000000", "0.200000"),
    ("aws", "2026-us-east-1", "compute"): ("invoke", {}, "250000", "3.333350"),
    ("aws", "2026-us-east-1", "compute_x86"): ("invoke", {"aws": {"architecture": "x86_64"}}, "250000", "4.166675"),
    ("aws", "2026-us-east-1", "requests"): ("invoke", {}, "1000000", "0.200000"),
    ("aws", "2026-us-east-1", "scheduler"): ("timer", {}, "1000000", "1.000000"),
    ("aws", "2026-us-east-1", "http_api"): ("http", {}, "1000000", "1.000000"),
    ("aws", "2026-us-east-1", "rest_api"): ("http", {"aws": {"api": "rest"}}, "1000000", "3.500000"),
    ("aws", "2026-us-east-1", "sqs"): ("queue", {}, "3000000", "1.200000"),  # send + receive + delete
    ("aws", "2026-us-east-1", "sqs_fifo"): ("queue-ordered", {}, "3000000", "1.500000"),
    ("aws", "2026-us-east-1", "sns"): ("topic", {}, "1000000", "0.500000"),
    ("azure", "2026-eastus", "compute"): ("invoke", {"azure": {"plan": "consumption"}}, "250000", "4.000000"),
    ("azure", "2026-eastus", "requests"): ("invoke", {"azure": {"plan": "consumption"}}, "1000000", "0.200000"),
    ("azure", "2026-eastus", "flex_compute"): ("invoke", {"azure": {"plan": "flex"}}, "500000", "13.000000"),  # on a 512 MB instance
    ("azure", "2026-eastus", "flex_requests"): ("invoke", {"azure": {"plan": "flex"}}, "1000000", "0.400000"),
    ("gcp", "2026-us-central1", "cpu"): ("invoke", {}, "167000", "4.008000"),  # 256 MiB gets 0.167 vCPU
    ("gcp", "2026-us-central1", "memory"): ("invoke", {}, "250000", "0.625000"),
    ("gcp", "2026-us-central1", "requests"): ("invoke", {}, "1000000", "0.400000"),
    ("gcp", "2026-us-central1", "scheduler"): ("timer", {}, "1", "0.100000"),  # per job, not per run
    # a publish and a push of at least 1,000 bytes each: 2e9 bytes x 40 USD / TiB
    ("gcp", "2026-us-central1", "pubsub"): ("queue", {}, "2000000000", "0.072760"),
    ("gcp", "2026-us-central1", "pubsub_topic"): ("topic", {}, "2000000000", "0.072760"),
    ("gcp", "2026-us-central1", "pubsub_stream"): ("stream", {}, "2000000000", "0.072760"),
}


def all_rows() -> list[tuple[str, str, str]]:
    return [(c, s.name, r.name) for c in ("aws", "azure", "gcp", "openwhisk") for s in price_sets(real(c)).values() for r in s.rows]


def test_every_price_row_is_priced_here() -> None:
    assert sorted(all_rows()) == sorted(ROWS)


@pytest.mark.parametrize("key", sorted(ROWS))
def test_price_row(key: tuple[str, str, str]) -> None:
    cloud, set_name, row_name = key
    kind, provider, expected_quantity, expected_usd = ROWS[key]
    prices = price_sets(real(cloud))[set_name]
    row = next(r for r in prices.rows if r.name == row_name)
    assert row.source.startswith("https://") and row.region and row.date
    ordered = kind.endswith("-ordered")
    usage = Usage("h", kind.removesuffix("-ordered"), Decimal(1_000_000), Decimal(1), 256, ordered=ordered, provider=provider)
    [charge] = [c for c in charges(usage, prices) if c.row.name == row_name]
    assert quantity(row, usage) == Decimal(expected_quantity)
    assert usd(charge.amount) == expected_usd


def test_rows_apply_only_to_their_triggers_and_plan() -> None:
    prices = price_sets(real("aws"))["2026-us-east-1"]
    names = {c.row.name for c in charges(Usage("h", "invoke", Decimal(1), Decimal(1), 128), prices)}
    assert names == {"compute", "requests"}
    azure = price_sets(real("azure"))["2026-eastus"]
    flex = {c.row.name for c in charges(Usage("h", "http", Decimal(1), Decimal(1), 2048, provider={"azure": {"plan": "flex"}}), azure)}
    assert flex == {"flex_compute", "flex_requests"}


def test_azure_consumption_bills_memory_in_128_mb_steps_up_to_1536() -> None:
    row = next(r for r in price_sets(real("azure"))["2026-eastus"].rows if r.name == "compute")
    assert [row.billed_memory(m) for m in (100, 129, 4096)] == [128, 256, 1536]


def test_sqs_batches_share_receive_and_delete_calls() -> None:
    row = next(r for r in price_sets(real("aws"))["2026-us-east-1"].rows if r.name == "sqs")
    assert quantity(row, Usage("h", "queue", Decimal(1000), Decimal(1), 128, batch_size=10)) == Decimal(1200)


def test_free_tier_is_applied_once_per_cloud_not_per_handler() -> None:
    prices = price_sets(real("aws"))["2026-us-east-1"]
    found = [c for name in ("a", "b") for c in charges(Usage(name, "invoke", Decimal(800_000), Decimal(1), 1024), prices)]
    credit, applied = free_tier_credit(found)
    assert {row.name: free for row, free in applied} == {"compute": Decimal(400_000), "requests": Decimal(1_000_000)}
    assert usd(credit) == usd(Decimal(400_000) * Decimal("0.0000133334") + Decimal("0.20"))


def test_usage_comes_from_flags_schedule_options_or_stated_defaults() -> None:
    app = App("costs")
    app.get("/a", memory=512, name="api")(handler)
    app.timer("*/5 * * * *", name="tick")(handler)
    app.queue("jobs", timeout=0.25, warm=True, name="work")(handler)
    api = usage_of(app, app.handler("api"), {"api": 10}, {"api": Decimal("0.3")}, 30)[0]
    assert (api.invocations, api.duration, api.memory) == (10, Decimal("0.3"), 512)
    assert api.basis == {"invocations": "from --invocations", "duration": "from --duration", "memory": "from option memory=512"}
    tick = usage_of(app, app.handler("tick"), {}, {}, 31)[0]
    assert tick.invocations == 8928 and "schedule" in tick.basis["invocations"]
    work, pings = usage_of(app, app.handler("work"), {}, {}, 30)
    assert (work.invocations, work.duration, work.memory) == (1_000_000, Decimal("0.25"), 256)
    assert pings.handler == "work (warm-up)" and pings.invocations == 12 * 24 * 30


def test_timer_runs_count_the_schedule_in_its_zone() -> None:
    assert timer_runs("*/5 * * * *", "UTC", 31) == 8928
    assert timer_runs("0 9 * * 1-5", "Asia/Seoul", 31) == 22  # January 2026 has 22 weekdays


def test_unknown_handler_in_flags_and_unknown_price_set_are_errors() -> None:
    app = App("costs")
    app.get("/a", name="api")(handler)
    loaded = {"aws": real("aws")}
    with pytest.raises(ConfigurationError, match="no handler nope"):
        estimate(app, loaded, {"nope": 1}, {}, 30, None)
    with pytest.raises(ConfigurationError, match="price set 'nope'"):
        estimate(app, loaded, {}, {}, 30, "nope")


def test_openwhisk_has_no_list_price_and_says_why() -> None:
    assert current_set(real("openwhisk")) is None
    app = App("costs")
    app.get("/a", name="api")(handler)
    _, sets, found = estimate(app, {"openwhisk": real("openwhisk")}, {}, {}, 30, None)
    assert "self-hosted" in str(sets["openwhisk"]) and found["openwhisk"] == []


def test_rows_in_one_free_group_share_one_allowance() -> None:
    prices = price_sets(real("aws"))["2026-us-east-1"]
    found = [
        *charges(Usage("std", "queue", Decimal(200_000), Decimal(1), 128), prices),
        *charges(Usage("fifo", "queue", Decimal(200_000), Decimal(1), 128, ordered=True), prices),
    ]
    _, applied = free_tier_credit(found)
    free = {row.name: amount for row, amount in applied}
    assert free["sqs"] == 600_000 and free["sqs_fifo"] == 400_000  # one million free requests in all
