"""Both examples' AWS bundles, checked the way AWS's own tools and a user check them, offline:

- ``sam validate --lint`` and ``checkov --skip-download`` on the **translated** template (SAM's form
  hides IAM from checkov), each from its tool venv made by ``.ci/setup``: no IAM, encryption-at-rest
  or public-access check fails, and every other failed check is listed in the bundle's README;
- per function, what the role grants is only what its ``uses=``, trigger, dead letter, secrets and
  network need; no ``*`` action, ``*`` resource only for actions IAM cannot scope;
- every retry field in the template equals the compiled policy;
- the bundle contains the local modules the app imports (the IoT photo handler's ``imaging`` from
  the sibling example), no other cloud's adapter, and pinned third-party requirements only.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from corefn.loader import load_app
from corefn.policy import used_sinks
from corefn_aws._iam import UNSCOPABLE
from corefn_aws._readme import CHECKOV_ACCEPTED
from corefn_aws._sam_resources import RESOURCE_TYPES, Plan, pascal
from tests.aws.test_generator import _translate

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
EXAMPLES = {"image_pipeline": "examples/image_pipeline/app.py:app", "iot_site": "examples/iot_site/app.py:app"}
#: checkov checks that must never fail: IAM (CKV_AWS_107-111, 355, 356, 40, 60-63, 274, 286-290),
#: encryption at rest (S3, SQS, SNS, Kinesis, DynamoDB, Lambda environment, KMS rotation), public access
MUST_PASS_PREFIXES = ("CKV_AWS_10", "CKV_AWS_11", "CKV_AWS_35", "CKV_AWS_40", "CKV_AWS_6", "CKV_AWS_27", "CKV_AWS_26",
                      "CKV_AWS_43", "CKV_AWS_19", "CKV_AWS_119", "CKV_AWS_173", "CKV_AWS_7", "CKV_AWS_53", "CKV_AWS_54",
                      "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_28", "CKV_AWS_2")  # fmt: skip


def _tool(name: str, exe: str) -> str:
    path = TOOLS / name / "bin" / exe
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash .ci/setup` (it makes the tool venvs)")
    return str(path)


@pytest.fixture(scope="module", params=sorted(EXAMPLES))
def bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``corefn deploy EXAMPLE --cloud aws --out DIR`` as a user runs it, from the repository root."""
    out = tmp_path_factory.mktemp(request.param)
    corefn = ROOT / ".venv" / "bin" / "corefn"
    subprocess.run([str(corefn), "deploy", EXAMPLES[request.param], "--cloud", "aws", "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return request.param, out / "aws"


def test_the_bundle_carries_what_the_app_imports_and_nothing_of_other_clouds(bundle: tuple[str, Path]) -> None:
    example, folder = bundle
    src = folder / "src"
    assert (src / "app.py").is_file() and (src / "imaging.py").is_file() and (src / "watermark.py").is_file()
    if example == "iot_site":
        assert (src / "reports_db.py").is_file()  # its own folder's module, and imaging from the sibling example
    assert (src / "corefn" / "__init__.py").is_file() and (src / "corefn_aws" / "runtime.py").is_file()
    for absent in ("corefn_azure", "corefn_gcp", "corefn_openwhisk", "corefn/cli", "corefn/local"):
        assert not (src / absent).exists(), absent
    (dist,) = src.glob("corefn-*.dist-info")
    entry_points = (dist / "entry_points.txt").read_text()
    assert "corefn_aws" in entry_points and "corefn_azure" not in entry_points and "corefn.local" not in entry_points
    lines = [line for line in (src / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert "boto3" in names and "pillow" in names and not any(n.startswith("corefn") for n in names)
    assert not names & {"azure-functions", "google-cloud-storage", "functions-framework", "ibmcloudant", "click"}


def test_sam_validate_lint_passes(bundle: tuple[str, Path]) -> None:
    _, folder = bundle
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "ap-northeast-2"}
    done = subprocess.run([_tool("sam", "sam"), "validate", "--lint", "--region", "ap-northeast-2"], cwd=folder,
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_checkov_on_the_translated_template(bundle: tuple[str, Path], tmp_path: Path) -> None:
    _, folder = bundle
    translated = tmp_path / "translated.json"
    translated.write_text(json.dumps(_translate(yaml.safe_load((folder / "template.yaml").read_text()))))
    done = subprocess.run([_tool("checkov", "checkov"), "--skip-download", "-f", str(translated), "--framework",
                           "cloudformation", "-o", "json", "--quiet"], capture_output=True, text=True)  # fmt: skip
    assert done.stdout.strip(), done.stderr
    report = json.loads(done.stdout)
    results = (report[0] if isinstance(report, list) else report)["results"]
    failed = {c["check_id"] for c in results["failed_checks"]}
    must_pass = {c for c in failed if c.startswith(MUST_PASS_PREFIXES) and c not in CHECKOV_ACCEPTED}
    assert not must_pass, f"IAM / encryption / public-access checks failed: {sorted(must_pass)}"
    unexplained = failed - set(CHECKOV_ACCEPTED)
    assert not unexplained, f"failed checks the README does not explain: {sorted(unexplained)}"
    readme = (folder / "README.md").read_text()
    assert all(f"- {c}:" in readme for c in failed)
    summary = (report[0] if isinstance(report, list) else report)["summary"]
    assert summary["passed"] > 20  # checkov really read the resources


def _needed(plan: Plan, name: str) -> set[str]:
    """Logical ids and physical-name fragments a function may be granted: its used sinks, its
    trigger's resource, its own dead letter and log group, its secrets, the environment key."""
    spec = plan.app.handler(name)
    allowed = {"EnvironmentKey", f"/aws/lambda/${{ResourcePrefix}}-${{Stage}}-{name}:"}
    for resource in [s.name for s in used_sinks(plan.app, spec)] + [spec.resource or ""]:
        if resource and plan.resources[resource].type in RESOURCE_TYPES:
            allowed |= {plan.physical(resource) + suffix for suffix in ("", "/", "\"")} | {plan.logical_id(resource)}
    settings = plan.policies[name].settings
    target = settings.get("OnFailure") or settings.get("DeadLetterQueue") or settings.get("DeadLetter")
    if target:
        own = pascal(name) + ("FailedRecords" if "OnFailure" in settings else "DeadLetterQueue")
        allowed.add(plan.logical_id(target["name"]) if target["name"] else own)
    allowed |= {"ApiKeySecret"} if spec.kind == "http" and spec.options.api_key else set()
    allowed |= {pascal(s.name) + "UrlSecret" for s in used_sinks(plan.app, spec) if s.kind in ("sql", "cache")}
    return allowed


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_role_grants_only_what_its_function_needs(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    from corefn_aws.generator import template

    app = load_app(EXAMPLES[example])
    plan = Plan(app, "app:app")
    resources = template(plan)["Resources"]
    for spec in app.handlers:
        role = resources[pascal(spec.name) + "FunctionRole"]["Properties"]
        statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        allowed = _needed(plan, spec.name)
        for statement in statements:
            actions = statement["Action"]
            assert all("*" not in a for a in actions), (spec.name, actions)
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for target in targets:
                if target == "*":
                    assert set(actions) <= set(UNSCOPABLE), (spec.name, actions)
                    continue
                text = json.dumps(target)
                if ":ec2:" in text:
                    assert "VpcConfig" in resources[pascal(spec.name) + "Function"]["Properties"], spec.name
                    continue
                assert any(a in text for a in allowed), f"{spec.name} is granted {actions} on {text}, beyond {sorted(allowed)}"
    if example == "iot_site":  # the read-only device API: no delete, no stream write, no VPC
        text = json.dumps(resources["GetDeviceFunctionRole"])
        assert "s3:" not in text and "kinesis" not in text and "sqs" not in text
        assert "VpcConfig" not in resources["GetDeviceFunction"]["Properties"]
        assert "VpcConfig" in resources["StoreReadingFunction"]["Properties"]  # it writes the SQL reports


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_retry_fields_are_the_compiled_policy(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    from corefn_aws.generator import template

    app = load_app(EXAMPLES[example])
    plan = Plan(app, "app:app")
    resources = template(plan)["Resources"]
    for spec in app.handlers:
        settings = plan.policies[spec.name].settings
        props = resources[pascal(spec.name) + "Function"]["Properties"]
        if "Timeout" in settings:
            assert props["Timeout"] == settings["Timeout"]
        if spec.kind == "queue":
            queue = resources[plan.logical_id(spec.resource or "")]["Properties"]
            assert queue["VisibilityTimeout"] == settings["VisibilityTimeout"]
            assert queue["RedrivePolicy"]["maxReceiveCount"] == settings["maxReceiveCount"] == 5
            dead = settings["DeadLetter"]["name"]
            assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [plan.logical_id(dead) if dead else "", "Arn"]}
        elif spec.kind in ("stream", "nosql"):
            (mapping,) = props["Events"].values()
            for field in ("MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds"):
                assert mapping["Properties"][field] == settings[field], field
            assert mapping["Properties"]["MaximumRetryAttempts"] == 4 and mapping["Properties"]["BisectBatchOnFunctionError"] is True
            destination = mapping["Properties"]["DestinationConfig"]["OnFailure"]
            assert destination["Type"] == settings["OnFailure"]["Type"] and destination["Destination"]
        elif spec.kind in ("storage", "timer", "topic"):
            assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == settings["MaximumRetryAttempts"]
            assert props["DeadLetterQueue"]["Type"] == settings["DeadLetterQueue"]["Type"]
    if example == "iot_site":
        assert resources["ProcessPhotoFunction"]["Properties"]["MemorySize"] == 2048
        assert resources["ReadingsDeadQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "${ResourcePrefix}-${Stage}-readings-dead"}


def test_no_secret_in_any_environment_or_parameter(bundle: tuple[str, Path]) -> None:
    _, folder = bundle
    template = yaml.safe_load((folder / "template.yaml").read_text())
    assert not any(p.get("NoEcho") for p in template["Parameters"].values())
    for body in template["Resources"].values():
        if body["Type"] == "AWS::Serverless::Function":
            for name, value in body["Properties"]["Environment"]["Variables"].items():
                text = json.dumps(value)
                assert "Ref" not in text or name.startswith("COREFN_SINK_") is False, (name, value)
                if "Secret" in text:
                    assert text.startswith('{"Fn::Sub": "secretsmanager:${'), (name, value)
