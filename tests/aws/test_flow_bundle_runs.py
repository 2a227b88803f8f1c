"""The flow example's AWS bundle run as Lambda runs it (the machinery of
tests/aws/test_bundle_runs.py: a fresh Python 3.12 venv of the bundle's pins, ``python -I``, the
template's environment, each function with only its role's grants under moto's IAM enforcement):

- the trigger function, given a real S3 ``ObjectCreated`` notification, starts an execution of the
  state machine on moto's Step Functions (``StartExecution`` with the event's JSON form as input,
  named after the notification's identity: S3 gives no event id, the object's sequencer stands in);
  the same notification delivered again starts nothing new;
- then each step function is invoked with what Step Functions would pass it (the state input, as
  ``"Payload.$": "$"`` does), in the order the deployed definition runs them: the renditions are
  written, the upload indexed in DynamoDB and announced on SNS.

moto's Step Functions records executions but does not run Lambda tasks here, so the steps are
invoked by the test in the definition's order (the order itself is read from the template).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_bundle_runs import Stack, _photo, _s3_created, _sub, _venv, aws  # noqa: F401 - aws is a fixture
from tests.aws.test_flow_deploy import MACHINE, folder  # noqa: F401 - folder is a fixture

pytestmark = pytest.mark.emulator


def _task_order(definition: dict[str, Any]) -> list[Any]:
    """The Lambda tasks from ``StartAt`` along ``Next`` (a Parallel as the list of its branches'
    tasks), skipping Pass states and catch handlers."""
    order: list[Any] = []
    name: str | None = definition["StartAt"]
    while name is not None:
        state = definition["States"][name]
        if state["Type"] == "Task":
            order.append(state["Parameters"]["FunctionName"].strip("${}").removeprefix("fn_"))
        elif state["Type"] == "Parallel":
            order.append([_task_order(branch) for branch in state["Branches"]])
        name = state.get("Next")
    return order


def test_the_trigger_starts_one_execution_per_upload_and_the_steps_run_in_order(folder: Path, aws: Any, aws_env: Any) -> None:  # noqa: F811
    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws)
    resources = stack.template["Resources"]
    aws("sns").create_topic(Name=_sub(resources["ProcessedTopic"]["Properties"]["TopicName"], stack.names))
    definition = resources[MACHINE]["Properties"]["Definition"]
    machine = aws("stepfunctions").create_state_machine(
        name=_sub(resources[MACHINE]["Properties"]["Name"], stack.names), definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{stack.names['AWS::AccountId']}:role/flow",
    )["stateMachineArn"]  # fmt: skip
    stack.names[MACHINE] = machine  # what {"Ref": MACHINE} resolves to
    bucket = {n: _sub(resources[n]["Properties"]["BucketName"], stack.names) for n in ("OriginalsBucket", "WatermarkedBucket", "ThumbnailsBucket")}
    body = _photo()
    aws("s3").put_object(Bucket=bucket["OriginalsBucket"], Key="uploads/cat.jpg", Body=body, ContentType="image/jpeg")
    event = _s3_created(bucket["OriginalsBucket"], "uploads/cat.jpg", len(body), aws_env.region)

    stack.invoke(python, "ProcessUploadFunction", [event, event], aws)  # the second: S3's at-least-once redelivery
    (execution,) = aws("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    started = aws("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    data = json.loads(started["input"])
    assert data["kind"] == "storage" and data["key"] == "uploads/cat.jpg" and data["bucket"] == "originals"

    order = _task_order(definition)
    assert order == ["validate", [["watermark"], ["thumbnail"]], "index", "notify"]
    (checked,) = stack.invoke(python, "ValidateFunction", [data], aws)
    assert checked == {"key": "uploads/cat.jpg", "format": "JPEG", "width": 1600, "height": 1200}
    renditions = [stack.invoke(python, branch[0].capitalize() + "Function", [checked], aws)[0] for branch in order[1]]
    assert [r["key"] for r in renditions] == ["uploads/cat.jpg"] * 2
    for which in ("WatermarkedBucket", "ThumbnailsBucket"):
        assert aws("s3").list_objects_v2(Bucket=bucket[which]).get("KeyCount") == 1, which
    (row,) = stack.invoke(python, "IndexFunction", [renditions], aws)
    table = _sub(resources["UploadsTable"]["Properties"]["TableName"], stack.names)
    assert aws("dynamodb").get_item(TableName=table, Key={"key": {"S": "uploads/cat.jpg"}})["Item"]["thumbnail"]["S"] == row["thumbnail"]
    (done,) = stack.invoke(python, "NotifyFunction", [row], aws)
    assert done["outcome"] == "done" and done["message"]


def test_a_failing_step_reports_its_class_name_as_the_lambda_error_type(folder: Path, aws: Any, aws_env: Any) -> None:  # noqa: F811
    """What the state machine's Catch matches (``RejectedUpload`` expanded to its subclasses):
    Lambda reports the raised class's own name as ``errorType``."""
    import subprocess

    from tests.aws.test_bundle_runs import DRIVER

    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws)
    originals = _sub(stack.template["Resources"]["OriginalsBucket"]["Properties"]["BucketName"], stack.names)
    aws("s3").put_object(Bucket=originals, Key="notes.txt", Body=b"not an image")
    done = subprocess.run([str(python), "-I", "-c", DRIVER, str(stack.src)], input=json.dumps([{"key": "notes.txt", "size": 12}]),
                          capture_output=True, text=True, env=stack.env("ValidateFunction"), cwd=stack.src, timeout=120)  # fmt: skip
    assert done.returncode != 0 and "NotAnImage" in done.stderr, done.stderr[-2000:]
    catcher = stack.template["Resources"][MACHINE]["Properties"]["Definition"]["States"]["validate"]["Catch"][0]
    assert "NotAnImage" in catcher["ErrorEquals"]


def test_a_keyed_start_is_one_execution_however_often_it_comes(aws: Any, aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """``ctx.start_flow(..., key=)`` on AWS against moto's Step Functions: the execution is named
    after the key, and a second start with the key (a redelivered event) returns the first one's
    ARN, even once the input differs (``ExecutionAlreadyExists``)."""
    from corefn import App, Context
    from corefn.flows import step
    from corefn_aws import _flow_start

    app = App("keyed")

    @app.invoke()
    def one(event: Any) -> Any:
        return event.payload

    app.flow("keyed-flow", [step("one")])
    definition = {"StartAt": "one", "States": {"one": {"Type": "Pass", "End": True}}}
    machine = aws("stepfunctions").create_state_machine(name="keyed-flow", definition=json.dumps(definition),
                                                        roleArn="arn:aws:iam::123456789012:role/flow")["stateMachineArn"]  # fmt: skip
    monkeypatch.setenv("COREFN_FLOW_KEYED_FLOW", machine)
    monkeypatch.setattr(_flow_start, "_clients", [])  # a client of this test's moto endpoint
    ctx = Context(cloud="aws", app=app)
    first = ctx.start_flow("keyed-flow", {"n": 1}, key="on-upload:evt/1 #a")
    assert ctx.start_flow("keyed-flow", {"n": 1}, key="on-upload:evt/1 #a") == first
    assert ctx.start_flow("keyed-flow", {"n": 2}, key="on-upload:evt/1 #a") == first
    other = ctx.start_flow("keyed-flow", {"n": 1}, key="on-upload:evt/2 #a")
    unkeyed = ctx.start_flow("keyed-flow", {"n": 1})
    runs = {e["executionArn"] for e in aws("stepfunctions").list_executions(stateMachineArn=machine)["executions"]}
    assert runs == {first, other, unkeyed} and len(runs) == 3
    assert first.endswith(":" + _flow_start.execution_name("on-upload:evt/1 #a")) and len(_flow_start.execution_name("x" * 300)) <= 80
