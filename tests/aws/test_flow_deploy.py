"""The flow example (``examples/image_pipeline/flow.py:app``) as ``corefn deploy --cloud aws``
writes it, checked by AWS's own tools and ours, offline: ``sam validate --lint``; cfn-lint on the
template and on SAM's translation; the state machine's definition, taken from the template with
its ``DefinitionSubstitutions`` applied as Step Functions applies them, through ``statelint`` and
``asl-validator``; and least privilege: the state machine's role may invoke its steps only, only
the flow's trigger function may start it (``states:StartExecution`` on that machine alone, its ARN
in ``COREFN_FLOW_PROCESS_UPLOAD``), and each step is a function with no event source; checkov on
the translated template at the other examples' bar."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from statelint.linter import Linter

from tests.aws.test_deploy_proof import ROOT, _tool
from tests.aws.test_flows import _asl_validator
from tests.aws.test_generator import _lint, _translate

REF = "examples/image_pipeline/flow.py:app"
MACHINE = "ProcessUploadStateMachine"
STEPS = ("validate", "watermark", "thumbnail", "index", "notify", "reject")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flow")
    subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", REF, "--cloud", "aws", "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return out / "aws"


@pytest.fixture(scope="module")
def template(folder: Path) -> dict[str, Any]:
    return yaml.safe_load((folder / "template.yaml").read_text())  # type: ignore[no-any-return]


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    """The definition as Step Functions receives it: each ``${fn_<step>}`` the step function's ARN."""
    props = template["Resources"][MACHINE]["Properties"]
    text = json.dumps(props["Definition"])
    for key, value in props["DefinitionSubstitutions"].items():
        function = value["Fn::GetAtt"][0]
        text = text.replace("${" + key + "}", f"arn:aws:lambda:ap-northeast-2:123456789012:function:corefn-dev-{function}")
    assert "${" not in text
    return json.loads(text)  # type: ignore[no-any-return]


def test_sam_validate_lint_passes(folder: Path) -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "ap-northeast-2"}
    done = subprocess.run([_tool("sam", "sam"), "validate", "--lint", "--region", "ap-northeast-2"], cwd=folder,
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_cfn_lint_passes_on_the_template_and_its_translation(template: dict[str, Any]) -> None:
    assert _lint(json.dumps(template)) == []
    translated = _translate(template)
    assert _lint(json.dumps(translated)) == []
    assert translated["Resources"][MACHINE]["Type"] == "AWS::StepFunctions::StateMachine"


def test_the_deployed_definition_passes_both_asl_validators(template: dict[str, Any], tmp_path: Path) -> None:
    machine = _definition(template)
    assert Linter.validate(machine) == []
    done = _asl_validator(machine, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_state_machine_may_invoke_its_steps_and_nothing_else(template: dict[str, Any]) -> None:
    role = _translate(template)["Resources"][MACHINE + "Role"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [s["Action"] for s in statements] == ["lambda:InvokeFunction"]
    named = {json.dumps(r) for r in statements[0]["Resource"]}
    functions = {"".join(p.capitalize() for p in s.split("-")) + "Function" for s in STEPS}
    assert named == {json.dumps({"Fn::GetAtt": [f, "Arn"]}) for f in functions} | {json.dumps({"Fn::Sub": "${" + f + ".Arn}:*"}) for f in functions}


def test_only_the_trigger_function_may_start_the_flow(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    starter = resources["ProcessUploadFunction"]["Properties"]
    assert starter["Environment"]["Variables"]["COREFN_FLOW_PROCESS_UPLOAD"] == {"Ref": MACHINE}
    assert starter["Events"]["Objects"]["Type"] == "S3"
    for lid, body in resources.items():
        if body["Type"] != "AWS::IAM::Role":
            continue
        statements = body["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        starts = [s for s in statements if any(a.startswith("states:") for a in s["Action"])]
        if lid == "ProcessUploadFunctionRole":
            assert starts == [{"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": {"Ref": MACHINE}}]
        else:
            assert starts == [], lid
    for step in STEPS:
        function = resources[step.capitalize() + "Function"]["Properties"]
        assert function["Events"] == {} and "COREFN_FLOW_PROCESS_UPLOAD" not in function["Environment"]["Variables"]
        assert function["Environment"]["Variables"]["COREFN_HANDLER"] == step


def test_the_machine_is_named_per_stage_and_bounded_by_the_flow_timeout(template: dict[str, Any]) -> None:
    props = template["Resources"][MACHINE]["Properties"]
    assert props["Name"] == {"Fn::Sub": "${ResourcePrefix}-${Stage}-process-upload"} and props["Type"] == "STANDARD"
    assert props["Definition"]["TimeoutSeconds"] == 300


def test_checkov_on_the_translated_template(folder: Path, tmp_path: Path) -> None:
    """The same bar as the other examples (tests/aws/test_deploy_proof.py): no IAM, encryption or
    public-access check fails, every other failed check is explained in the README; the state
    machine and its role included."""
    from tests.aws import test_deploy_proof as proof

    proof.test_checkov_on_the_translated_template(("image_pipeline_flow", folder), tmp_path)


def test_two_flows_whose_logical_ids_collide_are_refused() -> None:
    from corefn import App, ConfigurationError
    from corefn.flows import step
    from corefn_aws import adapter

    app = App("clash")
    app.invoke(name="work")(lambda event: None)
    app.flow("a-b", [step("work")])
    app.flow("a_b", [step("work")])
    with pytest.raises(ConfigurationError, match="flow 'a_b': its state machine's logical id 'ABStateMachine' is taken"):
        adapter.generate(app, "clash:app")
