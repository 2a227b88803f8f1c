"""Every AWS payload fixture through the Lambda entry point, as Lambda would call it: the right
user handler runs, and the answer has the shape Lambda and its callers expect."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from corefn.errors import EventShapeError, UnrecognizedPayloadError
from corefn_aws._common import RecordsFailedError
from corefn_aws.runtime import handler
from tests.aws import fixture_app
from tests.aws.conftest import EVENTS, LambdaContext, load

pytestmark = pytest.mark.usefixtures("lambda_env")

#: fixture → the user handler every one of its events must reach
ROUTES: dict[str, str] = {
    "http-alb-multivalue": "root",
    "http-alb": "alb_lambda",
    "http-alb-multivalue-repeats": "orders",
    "http-apigw-v1-post": "hello_world",
    "http-apigw-v1": "my_path",
    "http-apigw-v1-stage-binary": "device_photo",
    "http-apigw-v2": "my_path",
    "http-apigw-v2-query-cookies": "search",
    "http-function-url-base64": "root",
    "http-function-url": "root",
    "http-vpc-lattice": "lattice_v1",
    "http-vpc-lattice-v2": "lattice_v2",
    "http-vpc-lattice-v2-multivalue": "lattice_v2",
    "authorizer-apigw-request-rest": "gatekeeper",
    "authorizer-apigw-request-v1": "gatekeeper",
    "authorizer-apigw-request-v2": "gatekeeper",
    "authorizer-apigw-token": "gatekeeper",
    "invoke-apigw-websocket-connect": "resize",
    "invoke-apigw-websocket-message": "resize",
    "nosql-dynamodb-insert-modify-remove": "example_table",
    "nosql-dynamodb-insert-modify": "example_table",  # its ARN is a placeholder: pinned below
    "nosql-dynamodb-keys-only": "devices",
    "nosql-dynamodb-remove-types": "devices",
    "queue-sqs-batch3": "test_lambda",
    "queue-sqs": "my_queue",
    "queue-sqs-fifo": "fifo_orders",
    "storage-s3-delete": "artifacts",
    "storage-s3-put": "artifacts",
    "storage-s3-encodedkey": "source_bucket",
    "storage-s3-eventbridge-created": "example_bucket",
    "storage-s3-eventbridge-deleted": "photo_uploads",
    "storage-s3-plus-encoded": "photo_uploads",
    "storage-s3-delete-marker": "photo_uploads",
    "storage-s3-restore-completed": "photo_uploads",
    "storage-s3-lifecycle-transition": "photo_uploads",
    "storage-s3-in-sqs": "photo_uploads",
    "storage-s3-sns-in-sqs": "photo_uploads",
    "storage-s3-in-sns": "photo_uploads",
    "storage-s3-lifecycle-transition-prefixed": "example_bucket",
    "storage-s3-intelligent-tiering-prefixed": "example_bucket",
    "storage-s3-restore-prefixed": "example_bucket",
    "storage-s3-replication-prefixed": "demo_bucket",
    "storage-s3-testevent": "",
    "storage-s3-testevent-in-sqs": "",
    "stream-kinesis": "lambda_stream",
    "stream-kinesis-binary": "telemetry",
    "stream-kinesis-kpl-aggregated": "simple_stream",
    "timer-eventbridge-scheduled-detail": "my-schedule",
    "timer-eventbridge-scheduled": "SampleRule",
    "timer-eventbridge-scheduler-detail-string": "aaaaa",
    "topic-sns": "sns_lambda",
}
PINNED = {"nosql-dynamodb-insert-modify": "example_table"}


def test_every_fixture_has_a_route() -> None:
    fixtures = {p.name.removesuffix(".json") for p in EVENTS.glob("*.json") if not p.name.endswith(".expected.json")}
    assert fixtures == set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_fixture_reaches_its_handler(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if name in PINNED:
        monkeypatch.setenv("COREFN_HANDLER", PINNED[name])
    expected = json.loads((EVENTS / f"{name}.expected.json").read_text())["events"]
    answer = handler(load(name), LambdaContext())
    ran = [n for n, _ in fixture_app.RECEIVED]
    assert ran == [ROUTES[name]] * len(expected)
    for (_, event), wanted in zip(fixture_app.RECEIVED, expected, strict=True):
        assert event.kind == wanted["kind"]
        assert event.raw is not None or event.kind == "invoke"  # the escape hatch (an invoke is all payload)
    if name.startswith("http-"):
        assert answer["statusCode"] == 200 or (name in ("http-alb", "http-vpc-lattice") and answer["statusCode"] in (201, 202))
    elif name.startswith("authorizer-"):  # the answer API Gateway reads: a simple response or a policy
        payload = load(name)
        if payload.get("version") == "2.0":
            assert answer == {"isAuthorized": True, "context": {"sub": "user-1", "tenant": "t1"}}
        else:
            (statement,) = answer["policyDocument"]["Statement"]
            assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": payload["methodArn"]}
    elif name.startswith("invoke-"):  # unclaimed on purpose: the payload reaches the invoke handler whole
        assert answer["resized"] == load(name)
    elif name.startswith(("queue-", "stream-", "nosql-", "storage-s3-in-sqs", "storage-s3-sns-in-sqs", "storage-s3-testevent-in-sqs")):
        assert answer == {"batchItemFailures": []}
    else:
        assert answer is None


# ---------------------------------------------------------------------------------- HTTP out


def test_rest_v1_binary_in_and_out_with_stage_stripped() -> None:
    payload = load("http-apigw-v1-stage-binary")
    answer = handler(payload, LambdaContext())
    (_, request), = fixture_app.RECEIVED
    assert request.path == "/devices/dev 17/photo" and request.params == {"id": "dev 17"}
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == base64.b64decode(payload["body"])[::-1]
    assert answer["multiValueHeaders"]["content-type"] == ["application/octet-stream"]
    assert "headers" not in answer


def test_http_api_v2_answers_with_cookies_and_headers() -> None:
    answer = handler(load("http-apigw-v2-query-cookies"), LambdaContext())
    (_, request), = fixture_app.RECEIVED
    assert request.query.get_all("tag") == ["a", "b,c"] and request.cookies == ("session=abc123", "theme=dark")
    assert answer == {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["seen=1", "theme=dark"],
        "body": '{"ok": true}',
        "isBase64Encoded": False,
    }


def test_alb_single_value_answer_has_status_description_and_every_cookie() -> None:
    answer = handler(load("http-alb"), LambdaContext())
    assert answer["statusCode"] == 201 and answer["statusDescription"] == "201 Created"
    assert "multiValueHeaders" not in answer
    cookies = sorted(v for k, v in answer["headers"].items() if k.lower() == "set-cookie")
    assert cookies == ["a=1; Path=/", "b=2; Path=/"]
    assert len({k for k in answer["headers"] if k.lower() == "set-cookie"}) == 2


def test_alb_multi_value_answer_uses_multi_value_headers() -> None:
    answer = handler(load("http-alb-multivalue"), LambdaContext())
    assert answer["statusDescription"] == "200 OK"
    assert answer["multiValueHeaders"]["content-type"] == ["text/plain; charset=utf-8"]
    assert "headers" not in answer and answer["body"] == "root"


@pytest.mark.parametrize(
    "path, method, status",
    [("/nowhere", "GET", 404), ("/hello/world", "GET", 405), ("/orders/explode", "POST", 409)],
)
def test_unknown_routes_and_http_errors_are_formatted_not_raised(path: str, method: str, status: int) -> None:
    payload = load("http-apigw-v2")
    payload["rawPath"] = payload["requestContext"]["http"]["path"] = path
    payload["requestContext"]["http"]["method"] = method
    answer = handler(payload, LambdaContext())
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]
    if status == 405:
        assert answer["headers"]["allow"] == "POST"


def test_a_named_stage_is_stripped_from_http_api_paths() -> None:
    payload = load("http-apigw-v2")
    payload["rawPath"] = "/prod/my/path"
    payload["requestContext"]["stage"] = "prod"
    assert handler(payload, LambdaContext())["statusCode"] == 200
    assert fixture_app.RECEIVED[0][1].path == "/my/path"


def test_a_custom_domain_keeps_its_base_path() -> None:
    payload = load("http-apigw-v1")
    payload["requestContext"].update(stage="prod", path="/prod/my/path", domainName="api.example.com")
    answer = handler(payload, LambdaContext())
    assert answer["statusCode"] == 404  # the client really asked for /prod/my/path
    assert json.loads(answer["body"])["path"] == "/prod/my/path"


# ------------------------------------------------------------------------- partial failures


def _ids(answer: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in answer["batchItemFailures"]]


def test_sqs_reports_only_the_failed_message() -> None:
    payload = load("queue-sqs")
    first, second = (r["messageId"] for r in payload["Records"])
    fixture_app.FAIL.add(first)
    answer = handler(payload, LambdaContext())
    assert _ids(answer) == [first]
    assert [e.id for _, e in fixture_app.RECEIVED] == [first, second]


def test_fifo_failure_holds_back_the_rest_of_its_group_only() -> None:
    payload = load("queue-sqs-fifo")
    one, two, three = (r["messageId"] for r in payload["Records"])
    fixture_app.FAIL.add(one)
    answer = handler(payload, LambdaContext())
    assert _ids(answer) == [one, two]
    assert [e.id for _, e in fixture_app.RECEIVED] == [one, three]  # two was not run out of order


def test_fifo_order_is_kept_even_for_a_handler_not_declared_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = load("queue-sqs-fifo")
    for record in payload["Records"]:
        record["eventSourceARN"] = record["eventSourceARN"].replace("orders.fifo", "my-queue")
    one, two, _ = (r["messageId"] for r in payload["Records"])
    fixture_app.FAIL.add(one)
    assert _ids(handler(payload, LambdaContext())) == [one, two]


def test_kinesis_reports_the_first_failure_and_runs_nothing_after_it() -> None:
    payload = load("stream-kinesis")
    first = payload["Records"][0]["kinesis"]["sequenceNumber"]
    fixture_app.FAIL.add(first)
    assert _ids(handler(payload, LambdaContext())) == [first]
    assert len(fixture_app.RECEIVED) == 1


def test_kinesis_later_failure_keeps_the_earlier_record_done() -> None:
    payload = load("stream-kinesis")
    second = payload["Records"][1]["kinesis"]["sequenceNumber"]
    fixture_app.FAIL.add(second)
    assert _ids(handler(payload, LambdaContext())) == [second]


def test_dynamodb_reports_the_failed_change_by_sequence_number() -> None:
    payload = load("nosql-dynamodb-insert-modify-remove")
    modify = payload["Records"][1]
    fixture_app.FAIL.add(modify["eventID"])
    assert _ids(handler(payload, LambdaContext())) == [modify["dynamodb"]["SequenceNumber"]]


def test_s3_via_sqs_reports_the_carrying_message() -> None:
    payload = load("storage-s3-in-sqs")
    fixture_app.FAIL.add("uploads/my photo+1.jpg")
    assert _ids(handler(payload, LambdaContext())) == [payload["Records"][0]["messageId"]]


@pytest.mark.parametrize(
    "name, fail",
    [("topic-sns", "95df01b4-ee98-5cb9-9903-4c221d41eb5e"), ("storage-s3-put", "b21b84d653bb07b05b1e6b33684dc11b"),
     ("storage-s3-in-sns", "uploads/my photo+1.jpg"), ("timer-eventbridge-scheduled", "890abcde-f123-4567-890a-bcdef1234567")],
)
def test_async_sources_raise_so_lambda_retries(name: str, fail: str) -> None:
    fixture_app.FAIL.add(fail)
    with pytest.raises(RecordsFailedError) as info:
        handler(load(name), LambdaContext())
    assert isinstance(info.value.__cause__, RuntimeError) and fail in str(info.value.__cause__)


# ---------------------------------------------------------------------- names, pings, invoke


def test_physical_names_are_mapped_to_logical_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_NAMES", json.dumps({"prod-inbox-1a2b": "my-queue"}))
    payload = load("queue-sqs-batch3")
    for record in payload["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:eu-central-1:123456789012:prod-inbox-1a2b"
    handler(payload, LambdaContext())
    assert {(n, e.queue) for n, e in fixture_app.RECEIVED} == {("my_queue", "my-queue")}


@pytest.mark.parametrize("ping", [{"corefn": "warmup"}, {"source": "serverless-plugin-warmup"}])
def test_warmup_pings_never_run_user_code(ping: dict[str, Any]) -> None:
    assert handler(ping, LambdaContext()) == {"warmup": True}
    assert fixture_app.RECEIVED == []


def test_unclaimed_payloads_go_to_the_invoke_handler_with_the_lambda_context() -> None:
    answer = handler({"width": 100}, LambdaContext("req-42", remaining_ms=5000))
    assert answer["resized"] == {"width": 100}
    assert answer["invocation_id"] == "req-42" and answer["cloud"] == "aws"
    assert 0 < answer["remaining"] <= 5
    assert [n for n, _ in fixture_app.RECEIVED] == ["resize"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"Records": [{"eventSource": "aws:sqs"}]}, "Records[0].eventSourceARN"),
        ({"Records": [{"eventSource": "aws:kinesis", "eventID": "s:1", "kinesis": {"data": "%%%"}}]}, "Records[0].kinesis.data"),
        ({"version": "2.0", "requestContext": {"http": {}}, "rawPath": "/"}, "requestContext.http.method"),
        ({"detail-type": "Scheduled Event", "source": "aws.events", "time": "yesterday"}, "time"),
    ],
)
def test_malformed_signed_payloads_are_errors_not_invokes(payload: Any, field: str) -> None:
    with pytest.raises(EventShapeError) as info:
        handler(payload, LambdaContext())
    assert info.value.field == field
    assert fixture_app.RECEIVED == []


def test_without_an_invoke_handler_an_unclaimed_payload_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn import App
    from corefn.loader import _cache

    monkeypatch.setitem(_cache, "tests.aws.fixture_app:bare", App("bare"))
    monkeypatch.setenv("COREFN_APP", "tests.aws.fixture_app:bare")
    with pytest.raises(UnrecognizedPayloadError):
        handler({"width": 100}, LambdaContext())


# ---------------------------------------------------------------------------- cold start


def test_importing_the_adapter_and_its_runtime_imports_no_aws_sdk() -> None:
    code = (
        "import sys, corefn_aws, corefn_aws.runtime\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'aws_lambda_powertools', 'yaml'))\n"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_batch_failures_can_raise_where_partial_responses_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_AWS_BATCH_FAILURES", "raise")
    payload = load("queue-sqs")
    assert handler(payload, LambdaContext()) == {"batchItemFailures": []}
    fixture_app.FAIL.add(payload["Records"][1]["messageId"])
    with pytest.raises(RecordsFailedError):
        handler(payload, LambdaContext())


def test_a_local_call_without_lambda_context_still_gets_an_invocation_id() -> None:
    answer = handler({"width": 1}, None)
    assert len(answer["invocation_id"]) == 32 and answer["remaining"] is None


def test_a_batch_handler_marks_single_failures() -> None:
    payload = load("queue-sqs-batch3")
    for record in payload["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:eu-central-1:123456789012:bulk"
    middle = payload["Records"][1]["messageId"]
    fixture_app.FAIL.add(middle)
    assert _ids(handler(payload, LambdaContext())) == [middle]
    assert len(fixture_app.RECEIVED) == 3  # one call, the whole batch


@pytest.mark.parametrize(
    "payload, code, out",
    [
        ((EVENTS / "storage-s3-plus-encoded.json").read_text(), 0, '"key": "my photo(1).jpg"'),
        ('{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}', 2, "Records[0].s3.object"),
        ('{"width": 1}', 2, "not a recognised payload"),
    ],
)
def test_inspect_command(payload: str, code: int, out: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from corefn.cli import main; sys.exit(main())", "inspect", "-"],
        input=payload, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert out in (done.stdout if code == 0 else done.stderr)
    if code:
        assert len(done.stderr.strip().splitlines()) == 1
