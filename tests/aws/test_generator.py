"""The SAM project ``corefn deploy --cloud aws`` writes: valid for SAM's own translator and for
cfn-lint (on the SAM template and on the CloudFormation it becomes — cfn-lint finds circular
references the SAM schema does not), and saying what the app declared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from corefn import App
from corefn.errors import ConfigurationError
from corefn_aws import adapter
from corefn_aws._cron import to_eventbridge
from tests.aws import fixture_app, pipeline_app

APPS = {"pipeline": (pipeline_app.app, "tests.aws.pipeline_app:app"), "fixtures": (fixture_app.app, "tests.aws.fixture_app:app")}


class OfflinePolicyLoader:
    """SAM asks IAM for AWS managed policy ARNs only when a template names a managed policy;
    ours use policy templates, so nothing is asked — and nothing may be, offline."""

    def load(self) -> dict[str, str]:
        raise AssertionError("the template needs IAM managed policy lookups")


def _sam(app_key: str) -> tuple[str, dict[str, Any]]:
    app, ref = APPS[app_key]
    files = adapter.generate(app, ref)
    text = files["template.yaml"]
    assert isinstance(text, str)
    return text, yaml.safe_load(text)


def _translate(template: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="ap-northeast-2"))
    secret = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:{}-AbCdEf"
    params = {"ApiKeySecret": secret.format("key"), "SessionsUrlSecret": secret.format("s"), "ReportsUrlSecret": secret.format("r"),
              "PrivateSubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}  # fmt: skip
    packaged = json.loads(json.dumps(template))
    packaged["Globals"]["Function"]["CodeUri"] = "s3://artifacts/app.zip"  # what `sam package` does
    loader = OfflinePolicyLoader()
    return translator.translate(packaged, params, get_managed_policy_map=loader.load)  # type: ignore[no-any-return]


def _lint(text: str) -> list[str]:
    import cfnlint.api

    matches = cfnlint.api.lint(text, config=cfnlint.api.ManualArgs(regions=["ap-northeast-2"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


@pytest.fixture(scope="module", params=sorted(APPS))
def generated(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    text, template = _sam(request.param)
    yield text, template, _translate(template)


def test_sam_template_passes_cfn_lint(generated: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    assert _lint(generated[0]) == []


def test_translated_cloudformation_passes_cfn_lint(generated: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    assert _lint(json.dumps(generated[2])) == []


def test_one_function_per_handler_pinned_to_it(generated: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    _, template, _ = generated
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    pinned = sorted(f["Properties"]["Environment"]["Variables"]["COREFN_HANDLER"] for f in functions.values())
    app = pipeline_app.app if "MakeThumbnailFunction" in functions else fixture_app.app
    assert pinned == sorted(s.name for s in app.handlers)
    assert {f["Properties"]["Handler"] for f in functions.values()} == {"corefn_aws.runtime.handler"}
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    assert shared["COREFN_APP"] in {ref for _, ref in APPS.values()}


def _function(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]  # type: ignore[no-any-return]


def test_poll_based_triggers_report_batch_item_failures() -> None:
    _, template = _sam("pipeline")
    for fid, event in (("TakeOrderFunction", "Messages"), ("OnTelemetryFunction", "Records"), ("OnDeviceChangeFunction", "Changes")):
        props = _function(template, fid)["Events"][event]["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], fid
    kinesis = _function(template, "OnTelemetryFunction")["Events"]["Records"]["Properties"]
    assert kinesis["StartingPosition"] == "TRIM_HORIZON" and kinesis["BisectBatchOnFunctionError"] is True
    assert kinesis["MaximumRetryAttempts"] == 9 and kinesis["BatchSize"] == 50 and kinesis["ParallelizationFactor"] == 1
    assert kinesis["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    ddb = _function(template, "OnDeviceChangeFunction")["Events"]["Changes"]["Properties"]
    assert ddb["MaximumRetryAttempts"] == 4  # change feeds poison after 5 attempts too (issue 15)
    assert ddb["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["OnDeviceChangeFailedRecords", "Arn"]}


def test_queues_get_a_dead_letter_queue_after_max_attempts() -> None:
    _, template = _sam("pipeline")
    resources = template["Resources"]
    orders = resources["OrdersQueue"]["Properties"]
    assert orders["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["OrdersDeadLetterQueue", "Arn"]}, "maxReceiveCount": 3}
    assert orders["VisibilityTimeout"] == 120  # 6 x the 20 s function timeout
    payments = resources["PaymentsQueue"]["Properties"]
    assert payments["FifoQueue"] is True and payments["QueueName"] == {"Fn::Sub": "${ResourcePrefix}-${Stage}-payments.fifo"}
    assert payments["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PaymentsPoisonQueue", "Arn"]}
    assert payments["RedrivePolicy"]["maxReceiveCount"] == 5


def test_storage_trigger_filters_and_async_dead_letter() -> None:
    _, template = _sam("pipeline")
    fn = _function(template, "MakeThumbnailFunction")
    s3 = fn["Events"]["Objects"]["Properties"]
    assert s3["Bucket"] == {"Ref": "OriginalsBucket"}
    assert s3["Events"] == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"]
    assert s3["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}, {"Name": "suffix", "Value": ".jpg"}]
    assert fn["DeadLetterQueue"]["Type"] == "SQS" and fn["MemorySize"] == 1024 and fn["Timeout"] == 60


def _statements(template: dict[str, Any], fid: str) -> list[dict[str, Any]]:
    role = template["Resources"][fid + "Role"]["Properties"]
    assert _function(template, fid)["Role"] == {"Fn::GetAtt": [fid + "Role", "Arn"]}
    assert "Policies" not in _function(template, fid)  # no SAM-generated role with managed policies
    (policy,) = role["Policies"]
    return policy["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_each_function_has_its_own_role_with_its_sinks_only() -> None:
    _, template = _sam("pipeline")
    thumb = {json.dumps(s["Resource"], sort_keys=True): s["Action"] for s in _statements(template, "MakeThumbnailFunction")}
    # make_thumbnail uses=[originals, thumbnails]: S3 grants on those two buckets, nothing on the others
    assert thumb[json.dumps({"Fn::Sub": "arn:${AWS::Partition}:s3:::${ResourcePrefix}-${Stage}-thumbnails-${AWS::AccountId}/*"})] == [
        "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]  # fmt: skip
    text = json.dumps(_statements(template, "MakeThumbnailFunction"))
    assert "dynamodb" not in text and "kinesis" not in text and "sns:" not in text and "outbox" not in text
    order = json.dumps(_statements(template, "TakeOrderFunction"))
    assert '"sqs:ReceiveMessage"' in order and "OrdersQueue" in order and "s3:" not in order
    grants = {s["Resource"]["Fn::Sub"]: s["Action"] for s in _statements(template, "OnAlertFunction") if "Fn::Sub" in s.get("Resource", {})}
    # the backends' own grants: the SQS publisher looks its queue URL up; Kinesis only puts
    assert grants["arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${ResourcePrefix}-${Stage}-outbox"] == ["sqs:SendMessage", "sqs:GetQueueUrl"]
    assert grants["arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${ResourcePrefix}-${Stage}-telemetry"] == ["kinesis:PutRecord", "kinesis:PutRecords"]


def test_timers_run_on_eventbridge_scheduler_in_their_time_zone() -> None:
    _, template = _sam("pipeline")
    schedule = _function(template, "MorningReportFunction")["Events"]["Schedule"]
    assert schedule["Type"] == "ScheduleV2"
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 9 ? * 2-6 *)" and props["ScheduleExpressionTimezone"] == "Asia/Seoul"
    envelope = json.loads(props["Input"])
    assert envelope["source"] == "aws.scheduler" and envelope["detail"] == {"schedule": "0 9 * * 1-5", "tz": "Asia/Seoul"}


def test_scheduler_input_is_read_by_the_timer_shape() -> None:
    _, template = _sam("pipeline")
    text = _function(template, "MorningReportFunction")["Events"]["Schedule"]["Properties"]["Input"]
    delivered = json.loads(
        text.replace("<aws.scheduler.scheduled-time>", "2024-05-06T00:00:00Z")
        .replace("<aws.scheduler.execution-id>", "exec-1")
        .replace("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:ap-northeast-2:123456789012:schedule/default/image-pipeline-morning_report")
    )
    from corefn.adapters import parse

    parsed = parse(delivered, cloud="aws")
    assert parsed.shape_name == "eventbridge-schedule"
    assert parsed.events[0].to_dict() == {
        "kind": "timer", "time": "2024-05-06T00:00:00Z", "schedule": "0 9 * * 1-5", "name": "image-pipeline-morning_report", "id": "exec-1",
    }  # fmt: skip


def test_http_routes_api_keys_cors_and_warmup() -> None:
    _, template = _sam("pipeline")
    device = _function(template, "GetDeviceFunction")
    assert {e["Properties"]["Method"] for e in device["Events"].values()} == {"GET", "OPTIONS"}
    # the key is a reference the function resolves at cold start, never a value in the template
    assert device["Environment"]["Variables"]["COREFN_API_KEY"] == {"Fn::Sub": "secretsmanager:${ApiKeySecret}"}
    assert "secretsmanager" in template["Parameters"]["ApiKeySecret"]["AllowedPattern"]
    assert not any(p.get("NoEcho") for p in template["Parameters"].values())
    files = _function(template, "FilesFunction")["Events"]
    assert [e["Properties"]["Path"] for e in files.values()] == ["/files/{path+}"]
    assert _function(template, "LegacyFunction")["Events"]["GetLegacy"]["Type"] == "Api"
    warm = _function(template, "ResizeFunction")
    assert warm["Events"]["WarmUp"]["Properties"] == {"Schedule": "rate(5 minutes)", "Input": '{"corefn": "warmup"}'}
    assert warm["ReservedConcurrentExecutions"] == 5


def test_readme_explains_deploy_and_batch_failures() -> None:
    files = adapter.generate(*APPS["pipeline"])
    text = files["README.md"]
    assert isinstance(text, str)
    assert "sam deploy" in text and "ReportBatchItemFailures" in text and "UTC" in text
    assert "files: API Gateway gives up" in text  # the 45 s HTTP timeout warning


def test_names_map_physical_to_logical() -> None:
    _, template = _sam("pipeline")
    names = template["Globals"]["Function"]["Environment"]["Variables"]["COREFN_NAMES"]["Fn::Sub"]
    mapping = json.loads(names)
    assert mapping["${ResourcePrefix}-${Stage}-originals-${AWS::AccountId}"] == "originals"
    assert mapping["${ResourcePrefix}-${Stage}-payments.fifo"] == "payments"


@pytest.mark.parametrize(
    "cron, aws",
    [
        ("*/5 * * * *", "cron(0/5 * * * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("30 8 1 * *", "cron(30 8 1 * ? *)"),
        ("0 0 * * 0,6", "cron(0 0 ? * 1,7 *)"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
        ("0 12 * * sun", "cron(0 12 ? * SUN *)"),
    ],
)
def test_cron_translation(cron: str, aws: str) -> None:
    assert to_eventbridge(cron) == aws


def test_cron_with_both_day_fields_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        to_eventbridge("0 0 1 * 1")


def test_generated_through_the_deploy_command(tmp_path: Any) -> None:
    from corefn.cli.deploy import write_files

    app = App("tiny")

    @app.queue("jobs")
    def work(message: Any) -> None: ...

    written = write_files(dict(adapter.generate(app, "tiny:app")), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["README.md", "src/requirements.txt", "template.yaml"]
    assert _lint((tmp_path / "template.yaml").read_text()) == []


@pytest.mark.parametrize(
    "ref, expected",
    [("examples/image_pipeline/app.py:app", "app:app"), ("pkg.module:application", "pkg.module:application"), ("mod", "mod:app")],
)
def test_app_reference_as_lambda_imports_it(ref: str, expected: str) -> None:
    from corefn.loader import bundled_ref

    assert bundled_ref(ref) == expected


def test_runtime_and_architecture_are_named_with_defaults_and_chosen_per_app() -> None:
    from corefn.specs import Options

    _, template = _sam("fixtures")
    assert template["Globals"]["Function"]["Runtime"] == "python3.12" and template["Globals"]["Function"]["Architectures"] == ["arm64"]
    app = App("x86", defaults=Options(provider={"aws": {"architecture": "x86_64"}}))

    @app.queue("jobs")
    def work(message: Any) -> None: ...

    body = yaml.safe_load(str(adapter.generate(app, "x86:app")["template.yaml"]))
    assert body["Globals"]["Function"]["Architectures"] == ["x86_64"]
    newer = App("newer", defaults=Options(provider={"aws": {"runtime": "python3.99"}}))
    with pytest.raises(ConfigurationError, match="refresh.py aws-python3.99"):
        adapter.generate(newer, "newer:app")
    with pytest.raises(ConfigurationError, match="architecture"):
        adapter.generate(App("bad", defaults=Options(provider={"aws": {"architecture": "sparc"}})), "bad:app")


def test_long_handler_names_still_fit_lambdas_64_characters() -> None:
    app = App("long")
    name = "a_handler_name_that_is_far_too_long_for_a_lambda_function"

    @app.queue("jobs", name=name)
    def work(message: Any) -> None: ...

    body = yaml.safe_load(str(adapter.generate(app, "long:app")["template.yaml"]))
    (fn,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    physical = fn["Properties"]["FunctionName"]["Fn::Sub"].replace("${ResourcePrefix}", "p" * 20).replace("${Stage}", "s" * 8)
    assert len(physical) <= 64 and fn["Properties"]["Environment"]["Variables"]["COREFN_HANDLER"] == name



def test_idempotency_table_expires_records_with_dynamodb_ttl() -> None:
    from tests.aws import idempotent_app

    files = adapter.generate(idempotent_app.app, "tests.aws.idempotent_app:app")
    text = files["template.yaml"]
    assert isinstance(text, str)
    tables = [r for r in yaml.safe_load(text)["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    (table,) = tables
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert _lint(text) == []
