"""Step payloads stay within Step Functions' 256 KiB (the smallest strict limit of the clouds'
workflow services, see corefn/flows/limits.py): a larger result fails the run, naming the step
and the size, and is never retried or caught; a larger input is refused before a run starts."""

from __future__ import annotations

import pytest

from corefn.flows.limits import PAYLOAD_LIMIT, FlowPayloadTooLarge, encode
from tests.flows.conftest import APP, Flows, result


def test_the_limit_is_step_functions_256_kib() -> None:
    assert PAYLOAD_LIMIT == 262_144
    assert len(encode("f", "s", "é" * 131_070)) == 131_072  # measured in UTF-8 bytes: 2 per é, plus quotes
    with pytest.raises(FlowPayloadTooLarge, match="'s' is 262,146 bytes"):
        encode("f", "'s'", "é" * 131_072)


def test_a_result_over_the_limit_fails_the_run_naming_step_and_size(flows: Flows) -> None:
    done = flows.flow("too-big", {"size": PAYLOAD_LIMIT})  # a JSON string: the quotes push it over
    assert done.returncode == 1
    assert "step 'big''s result is 262,146 bytes of JSON, over the 262,144-byte limit" in done.stderr
    assert flows.records("finish") == []
    (run,) = flows.runs()
    assert run["status"] == "failed" and flows.steps(run["id"])["0"]["status"] == "failed"


def test_a_result_that_is_not_json_fails_the_run_without_retry_or_catch(flows: Flows) -> None:
    done = flows.flow("not-json", {})
    assert done.returncode == 1
    assert "step 'raw''s result is not JSON: Object of type bytes is not JSON serializable" in done.stderr
    assert flows.records("fallback") == [] and flows.records("finish") == []


def test_a_result_at_the_limit_passes(flows: Flows) -> None:
    done = flows.flow("too-big", {"size": PAYLOAD_LIMIT - 2})
    assert done.returncode == 0, done.stderr
    assert result(done) == {"n": None, "done": True}


def test_an_input_over_the_limit_is_refused(flows: Flows) -> None:
    done = flows.cli("flow", APP, "chain", "--data", "-", stdin='"' + "x" * PAYLOAD_LIMIT + '"')
    assert done.returncode == 2
    assert "the input is 262,146 bytes of JSON" in done.stderr


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_adapters_facts_agree_with_the_enforced_table(cloud: str) -> None:
    """The limits check reads each adapter's ``workflows.toml``; the core enforces
    ``limits.PAYLOAD_LIMITS`` without loading an adapter: both must say the same."""
    from corefn.facts import load
    from corefn.flows.limits import PAYLOAD_LIMITS, SPILLED_LIMITS

    fact = load(cloud).get("workflows", "workflows.step_payload")
    assert fact is not None
    size = fact["max"] * 1024
    service = {"aws": "aws-step-functions", "azure": "azure-durable-functions", "gcp": "gcp-workflows"}[cloud]
    table = PAYLOAD_LIMITS if fact["binding"] else SPILLED_LIMITS
    assert table[service] == (size, fact["source"])


def test_a_fallback_input_over_the_limit_fails_the_run(flows: Flows) -> None:
    """The failed step's input passed the limit; with the error beside it, the fallback's does not."""
    import json

    data = json.dumps({"pad": "x" * (PAYLOAD_LIMIT - 40)})
    done = flows.cli("flow", APP, "uncaught-big", "--data", "-", stdin=data)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the input of catch 'fallback' is 262," in done.stderr and "over the 262,144-byte limit" in done.stderr
    assert flows.records("fallback") == []
