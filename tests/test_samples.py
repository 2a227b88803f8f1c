"""Every adapter's bundled samples (``corefn event CLOUD TRIGGER``) read as the trigger kind they
are named after, on their own cloud and — where the payload has a signature — without naming it."""

from __future__ import annotations

import pytest

from corefn.adapters import get_adapter, parse
from corefn.errors import ConfigurationError
from corefn.events import EVENT_KINDS

CLOUDS = ("aws", "azure", "gcp", "openwhisk")
#: triggers a cloud has no JSON payload for (documented in each adapter's samples/)
MISSING = {
    "azure": {"invoke", "authorizer"},  # Azure Functions has no direct invoke
    "gcp": {"http", "invoke", "authorizer"},  # HTTP functions receive a Flask request; no direct invoke
    "openwhisk": {"queue", "topic", "authorizer"},  # no native queue or topic trigger (the seed's table)
    # authorizers are API Gateway's (Lambda authorizers): the other clouds' gateways call no function
}
CASES = [(c, t) for c in CLOUDS for t in EVENT_KINDS if t not in MISSING.get(c, set())]


@pytest.mark.parametrize("cloud, trigger", CASES)
def test_each_sample_is_its_kind(cloud: str, trigger: str) -> None:
    sample = get_adapter(cloud).sample(trigger)
    parsed = parse(sample, cloud=cloud)
    kinds = {e.kind for e in parsed.events}
    # GCP delivers queues and streams through Pub/Sub: they read as topic messages until the
    # declared handler says otherwise (see corefn_gcp.stream)
    expected = {"topic"} if cloud == "gcp" and trigger in ("queue", "stream") else {trigger}
    assert parsed.events and kinds == expected
    if trigger != "invoke":
        assert parse(sample).cloud == cloud  # detected without --cloud too


@pytest.mark.parametrize("cloud", CLOUDS)
def test_samples_are_fresh_copies_and_unknown_triggers_are_named(cloud: str) -> None:
    adapter = get_adapter(cloud)
    first = adapter.sample("storage")
    first.clear()
    assert adapter.sample("storage")
    with pytest.raises(ConfigurationError, match="storage"):
        adapter.sample("bucket")
