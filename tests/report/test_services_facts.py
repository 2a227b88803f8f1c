"""Every cloud's services.toml keeps the shape the report and the limits check read (documented in
corefn/report/__init__.py), with a provider page for each fact."""

from __future__ import annotations

import pytest

from corefn.facts import iter_facts, load
from corefn.report.model import SINK_KINDS, TRIGGER_FIELDS

CLOUDS = ["aws", "azure", "gcp", "openwhisk", "knative"]
FEATURES = {"layer", "direct-integration", "state-machine", "provider-event"}
OPTIONAL = {"note", "ordered", "ordering", "delivery", "max_message_kb", "timeout_s", "private_network", "targets", "schemes"}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_services_shape(cloud: str) -> None:
    services = load(cloud).topic("services")
    assert set(services) == {"meta", "triggers", "sinks", "features", "platform"}
    assert set(services["triggers"]) == set(TRIGGER_FIELDS)
    assert set(services["sinks"]) == set(SINK_KINDS)
    assert set(services["features"]) <= FEATURES
    for section in ("triggers", "sinks", "features"):
        for kind, entries in services[section].items():
            for name, fact in entries.items():
                where = f"{cloud} {section}.{kind}.{name}"
                assert fact["support"] in ("native", "bridged", "unsupported"), where
                assert isinstance(fact["service"], str) and fact["service"], where
                assert set(fact) - {"support", "service", "source"} <= OPTIONAL, where
                assert isinstance(fact.get("max_message_kb", 1), int), where
                assert fact.get("ordered", True) is True, where  # only stated where order is kept
                assert all(t in ("queue", "topic", "stream") for t in fact.get("targets", [])), where
    platform = services["platform"]
    assert {"function", "tmp", "schedule", "network"} <= set(platform)
    function = platform["function"]
    assert function["memory_min_mb"] < function["memory_max_mb"]
    assert "timeout_max_s" in function or "timeout" in function
    assert isinstance(platform["schedule"]["any_zone"], bool) and platform["schedule"]["fields"] in (5, 6)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_fact_cites_a_provider_page(cloud: str) -> None:
    services = load(cloud).topic("services")
    facts = dict(iter_facts(services))
    assert len(facts) >= 15  # every kind, sink and platform table
    for path, fact in facts.items():
        assert fact["source"].startswith("https://"), path
