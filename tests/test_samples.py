"""Every adapter's bundled samples (``corefn event CLOUD TRIGGER``) read as the trigger kind they
are named after, on their own cloud and — where the payload has a signature — without naming it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from corefn.adapters import get_adapter, parse
from corefn.errors import ConfigurationError
from corefn.events import EVENT_KINDS

#: every cloud with payload fixtures (tests/events/<cloud>/)
CLOUDS = sorted(p.name for p in (Path(__file__).parent / "events").iterdir() if p.is_dir())
#: triggers a built-in cloud has no JSON payload for (documented in each adapter's samples/)
MISSING = {
    "aws": set(),
    "azure": {"invoke", "authorizer"},  # Azure Functions has no direct invoke
    "gcp": {"http", "invoke", "authorizer"},  # HTTP functions receive a Flask request; no direct invoke
    "openwhisk": {"queue", "topic", "authorizer"},  # no native queue or topic trigger
    "knative": {"nosql", "authorizer"},  # no change-feed source on Knative or Code Engine
    # authorizers are API Gateway's (Lambda authorizers): the other clouds' gateways call no function
}


def shipped(cloud: str) -> list[str]:
    """The triggers ``cloud``'s adapter ships a sample for (``<adapter package>/samples/*.json``)."""
    package = get_adapter(cloud).samples
    assert package is not None, f"the {cloud} adapter ships no samples"
    return sorted(p.name.removesuffix(".json") for p in resources.files(package).iterdir() if p.name.endswith(".json"))


CASES = [(c, t) for c in CLOUDS for t in shipped(c)]


@pytest.mark.parametrize("cloud", sorted(MISSING))
def test_built_in_clouds_ship_every_sample_they_can(cloud: str) -> None:
    assert set(EVENT_KINDS) - {kind_of(t) for t in shipped(cloud)} == MISSING[cloud]


def kind_of(sample: str) -> str:
    """The event kind a sample is named after: ``authorizer-token`` is a variant of ``authorizer``."""
    return sample.partition("-")[0]


@pytest.mark.parametrize("cloud, trigger", CASES)
def test_each_sample_is_its_kind(cloud: str, trigger: str) -> None:
    kind = kind_of(trigger)
    assert kind in EVENT_KINDS, f"{cloud} sample {trigger}.json is named after no event kind"
    sample = get_adapter(cloud).sample(trigger)
    parsed = parse(sample, cloud=cloud)
    kinds = {e.kind for e in parsed.events}
    # GCP delivers queues and streams through Pub/Sub: they read as topic messages until the
    # declared handler says otherwise (see corefn_gcp.stream)
    expected = {"topic"} if cloud == "gcp" and kind in ("queue", "stream") else {kind}
    assert parsed.events and kinds == expected
    if kind != "invoke":
        assert parse(sample).cloud == cloud  # detected without --cloud too


@pytest.mark.parametrize("cloud", CLOUDS)
def test_samples_are_fresh_copies_and_unknown_triggers_are_named(cloud: str) -> None:
    adapter = get_adapter(cloud)
    trigger = next(t for c, t in CASES if c == cloud)
    first = adapter.sample(trigger)
    first.clear()
    assert adapter.sample(trigger)
    with pytest.raises(ConfigurationError, match=trigger):
        adapter.sample("bucket")
