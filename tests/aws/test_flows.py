"""The Step Functions side of flows: every compiled construct passes both ASL validators —
``statelint`` (PyPI: a Python port of awslabs' Ruby statelint) and ``asl-validator`` (npm,
pinned in tests/emulators/package.json) — and the state machine, merged into the app's SAM
template, passes SAM's translator and cfn-lint on both forms; its role may invoke its steps'
functions and nothing else. Each validator is also shown to reject what it should, so a
validator that silently checks nothing fails here."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from statelint.linter import Linter

from corefn_aws import adapter
from corefn_aws.flows import definition, placeholder, resource_id
from tests.aws.test_generator import _lint, _translate
from tests.flows.compile_app import CASES, app

ROOT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = ROOT / "tests" / "emulators" / "node_modules" / ".bin" / "asl-validator"
REF = "tests.flows.compile_app:app"


def _concrete(machine: dict[str, Any]) -> dict[str, Any]:
    """The definition as Step Functions receives it: placeholders replaced by function ARNs
    (statelint rejects a ``${...}`` where it expects an ARN)."""
    text = json.dumps(machine)
    for task in {h for flow in app.flows for h in (t.handler for t in flow.tasks())}:
        text = text.replace("${" + placeholder(task) + "}", f"arn:aws:lambda:ap-northeast-2:123456789012:function:compile-cases-{task}")
    return json.loads(text)  # type: ignore[no-any-return]


def _asl_validator(machine: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(machine))
    assert ASL_VALIDATOR.exists(), "asl-validator is missing: run .ci/setup (npm ci in tests/emulators)"
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", sorted(CASES))
def test_statelint_accepts_every_construct(case: str) -> None:
    assert Linter.validate(_concrete(definition(app.get_flow(case), app))) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_asl_validator_accepts_every_construct(case: str, tmp_path: Path) -> None:
    done = _asl_validator(_concrete(definition(app.get_flow(case), app)), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_statelint_rejects_what_the_issue_says_it_rejects() -> None:
    machine = _concrete(definition(app.get_flow("retry"), app))
    as_int = copy.deepcopy(machine)
    as_int["States"]["flaky"]["Retry"][1]["BackoffRate"] = 2
    assert any("BackoffRate" in p for p in Linter.validate(as_int))
    placeholder_arn = definition(app.get_flow("task"), app)
    placeholder_arn["States"]["add"]["Resource"] = "${fn_add}"
    assert Linter.validate(placeholder_arn) != []


def test_asl_validator_rejects_a_dangling_next(tmp_path: Path) -> None:
    machine = _concrete(definition(app.get_flow("sequence"), app))
    machine["States"]["first"]["Next"] = "nowhere"
    assert _asl_validator(machine, tmp_path).returncode != 0


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The app's SAM template as ``corefn deploy`` writes it: every flow's state machine in it."""
    text = adapter.generate(app, REF)["template.yaml"]
    assert isinstance(text, str)
    data: dict[str, Any] = yaml.safe_load(text)
    assert {resource_id(f) for f in app.flows} <= set(data["Resources"])
    return data


def test_template_with_state_machines_passes_cfn_lint(template: dict[str, Any]) -> None:
    assert _lint(json.dumps(template)) == []


def test_translated_template_passes_cfn_lint(template: dict[str, Any]) -> None:
    """W1020 on ``COREFN_NAMES`` is the app generator's (an app with no resources has an empty
    name map under ``Fn::Sub``), not the state machines'."""
    found = _lint(json.dumps(_translate(template)))
    assert [f for f in found if not (f.startswith("W1020") and "COREFN_NAMES" in f)] == []


def test_state_machine_role_invokes_only_its_steps(template: dict[str, Any]) -> None:
    translated = _translate(template)
    role = translated["Resources"]["ParallelStateMachineRole"]
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [s["Action"] for s in statements] == ["lambda:InvokeFunction"]
    resources = statements[0]["Resource"]
    assert resources[:3] == [{"Fn::GetAtt": [f"{n}Function", "Arn"]} for n in ("Add", "Double", "Total")]
    assert resources[3:] == [{"Fn::Sub": "${" + f"{n}Function" + ".Arn}:*"} for n in ("Add", "Double", "Total")]
    machine = translated["Resources"]["ParallelStateMachine"]["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
