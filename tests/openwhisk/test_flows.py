"""OpenWhisk runs a flow only as a sequence: a plain chain of steps compiles to one (nested
sequences flattened, action names from the caller), and every construct a sequence cannot
express is refused at generation with the step and the construct named, and listed in full by
``unsupported`` (what the limits check and the lock-in report read)."""

from __future__ import annotations

import pytest

from corefn.errors import ConfigurationError
from corefn.flows import FlowSpec, sequence, step
from corefn_openwhisk.flows import UNSUPPORTED, FlowNotSupported, unsupported
from corefn_openwhisk.flows import sequence as compile_sequence
from tests.flows.compile_app import app

REFUSED = {
    "retry": ("flaky", "retry"),
    "retry-any": ("flaky", "retry"),
    "catch": ("boom", "catch"),
    "catch-resume": ("boom", "catch"),
    "choice": ("choice", "choice"),
    "parallel": ("both", "parallel"),
    "parallel-catch": ("first-boom", "catch"),
    "map": ("items", "map"),
    "wait": ("pause", "wait"),
}


def test_a_plain_chain_is_one_sequence_nested_sequences_flattened() -> None:
    flow = FlowSpec("chain", sequence(step("add"), sequence(step("double"), step("add", name="again")), step("echo")))
    assert compile_sequence(flow, lambda handler: f"pkg/{handler}") == {"chain": {"actions": "pkg/add, pkg/double, pkg/add, pkg/echo"}}
    assert unsupported(flow) == []


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_construct_a_sequence_cannot_express_is_refused_by_name(case: str) -> None:
    step_name, construct = REFUSED[case]
    with pytest.raises(FlowNotSupported) as refused:
        compile_sequence(app.get_flow(case))
    assert isinstance(refused.value, ConfigurationError)
    assert (refused.value.step, refused.value.construct) == (step_name, construct)
    assert f"{construct} step {step_name!r}" in str(refused.value) and UNSUPPORTED[construct] in str(refused.value)


def test_unsupported_lists_every_construct_of_a_flow() -> None:
    """The example flow: a catch, a parallel with its own catch, retries on four steps."""
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parents[2] / "examples" / "image_pipeline")
    sys.path.insert(0, folder)
    try:
        import flow as example
    finally:
        sys.path.remove(folder)
    found = [(name, construct) for name, construct, _ in unsupported(example.pipeline)]
    assert found == [
        ("validate", "catch"), ("renditions", "parallel"), ("renditions", "catch"), ("watermark", "retry"),
        ("thumbnail", "retry"), ("index", "retry"), ("notify", "retry"),
    ]
