"""Each flow construct × each compiler, against golden files (``tests/flows/golden/<case>/``).

The golden files are the review surface: a compiler change shows up as a diff there. To rewrite
them after a deliberate change: ``COREFN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q
tests/flows/test_compilers.py`` and read ``git diff tests/flows/golden``. The validators of each
cloud's output live beside each adapter's tests (tests/aws, tests/gcp, tests/azure,
tests/openwhisk); here only the text is compared, and a few structural facts a golden file
would let slip are asserted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from corefn.flows import FlowSpec
from corefn_aws import flows as aws
from corefn_azure import flows as azure
from corefn_gcp import flows as gcp
from corefn_openwhisk import flows as openwhisk
from tests.flows.compile_app import CASES, app

GOLDEN = Path(__file__).parent / "golden"
REF = "tests.flows.compile_app:app"


def _openwhisk(flow: FlowSpec) -> str:
    try:
        return json.dumps(openwhisk.sequence(flow), indent=2) + "\n"
    except openwhisk.FlowNotSupported as refused:
        return f"refused: {refused}\n"


COMPILERS: dict[str, Callable[[FlowSpec], str]] = {
    "aws.json": lambda flow: json.dumps(aws.state_machine(flow, app), indent=2) + "\n",
    "gcp.yaml": lambda flow: gcp.to_yaml(gcp.definition(flow, app)),
    "openwhisk.txt": _openwhisk,
}


def _check(path: Path, text: str) -> None:
    if os.environ.get("COREFN_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden file {path}; write it with COREFN_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path.relative_to(GOLDEN)} differs; rewrite with COREFN_UPDATE_GOLDEN=1 and review the diff"


@pytest.mark.parametrize("target", sorted(COMPILERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_construct_compiles_to_its_golden_file(case: str, target: str) -> None:
    _check(GOLDEN / case / target, COMPILERS[target](app.get_flow(case)))


def test_durable_function_app_is_its_golden_file() -> None:
    _check(GOLDEN / "azure-function_app.py", azure.function_app_py(app, REF))


def test_every_case_has_a_golden_folder_and_no_stale_one() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(CASES)


def test_aws_catch_expands_a_base_class_and_ends_the_scope() -> None:
    """Step Functions compares the Lambda errorType only: ``Trouble`` must list its subclasses;
    the catch without resume ends the flow (its sequence), skipping ``skipped``."""
    states = aws.definition(app.get_flow("catch"), app)["States"]
    assert states["boom"]["Catch"][0]["ErrorEquals"] == ["Trouble", "Broken", "Throttled"]
    assert "skipped" in states and states["fallback"]["End"] is True
    resumed = aws.definition(app.get_flow("catch-resume"), app)["States"]
    assert resumed["fallback"]["Next"] == "after"


def test_aws_retry_rules_keep_their_order_and_any_is_last() -> None:
    retry = aws.definition(app.get_flow("retry"), app)["States"]["flaky"]["Retry"]
    assert [r["ErrorEquals"] for r in retry[1:]] == [["Trouble", "Broken", "Throttled"], ["States.ALL"]]
    assert retry[1]["MaxAttempts"] == 2 and retry[1]["BackoffRate"] == 1.5 and retry[1]["IntervalSeconds"] == 1


def test_gcp_retry_predicates_apply_the_first_matching_rule_only() -> None:
    workflow = gcp.definition(app.get_flow("retry"), app)
    second = workflow["corefn_retry_flaky_1"]["steps"]
    assert second[1]["names"]["assign"] == [{"earlier": ["Trouble", "Broken", "Throttled"]}, {"names": ["*"]}]
    assert second[2]["decide"]["return"] == "${true and not (error.type in earlier)}"


@pytest.mark.parametrize(
    ("names", "asl"),
    [
        (("*",), ["States.ALL"]),
        (("Trouble", "*"), ["States.ALL"]),
        (("Exception",), ["States.TaskFailed"]),
        (("StepTimeout",), ["States.Timeout", "Sandbox.Timedout"]),
        (("NoChoiceMatched",), ["States.NoChoiceMatched"]),
        (("Broken",), ["Broken"]),
    ],
)
def test_aws_error_names(names: tuple[str, ...], asl: list[str]) -> None:
    assert aws.error_names(names) == asl


def test_a_base_class_name_lists_corefn_subclasses_too() -> None:
    found = aws.error_names(("SinkError",))
    assert found[0] == "SinkError" and {"SinkThrottledError", "SinkUnavailableError", "SinkNotFoundError"} <= set(found)


def test_per_app_entry_points_for_the_generators() -> None:
    """What each generator will call once it takes flows: one entry per flow of the app."""
    assert sorted(aws.resources(app)) == sorted(aws.resource_id(flow) for flow in app.flows)
    files = gcp.files(app)
    assert sorted(files) == sorted(f"workflows/compile-cases-{flow.name}.yaml" for flow in app.flows)
    assert sum("gcloud workflows deploy compile-cases-" in line for line in gcp.deploy_lines(app)) == len(app.flows)
    with pytest.raises(openwhisk.FlowNotSupported):
        openwhisk.sequences(app)


def test_expansion_does_not_depend_on_what_sys_modules_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test or a reload may drop or replace the app's modules in ``sys.modules``; the classes
    are found from the handlers themselves (this once made the full suite's output differ)."""
    import sys

    from corefn.flows.compiling import home_of

    before = aws.error_names(("Trouble", "SinkError"), home_of(app))
    monkeypatch.delitem(sys.modules, "tests.flows.compile_app")
    assert aws.error_names(("Trouble", "SinkError"), home_of(app)) == before
    assert before[:3] == ["Trouble", "Broken", "Throttled"] and "SinkThrottledError" in before
