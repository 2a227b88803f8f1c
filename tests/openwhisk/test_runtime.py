"""``main(params)`` called as the OpenWhisk python:3.11 runtime calls it, with the fixture params."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from corefn.events import InvokeEvent, NoSqlChange, StorageEvent, StreamRecord, TimerEvent
from corefn_openwhisk.runtime import main, make_main
from tests.openwhisk.conftest import APP_REF

EVENTS = Path(__file__).parent.parent / "events" / "openwhisk"


def fixture(name: str) -> dict[str, Any]:
    params: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return params


def web(method: str, path: str, query: str = "", body: str | None = None, content_type: str | None = None) -> dict[str, Any]:
    """A raw-mode web action request, as the controller builds it."""
    headers = {"host": "example.openwhisk", "accept": "*/*"}
    if content_type:
        headers["content-type"] = content_type
    params: dict[str, Any] = {"__ow_method": method.lower(), "__ow_path": path, "__ow_query": query, "__ow_headers": headers}
    if body is not None:
        params["__ow_body"] = body
    return params


run = make_main(APP_REF)


# ------------------------------------------------------------------------------ web actions


def test_route_params_and_repeated_query(ow_env: dict[str, str]) -> None:
    out = run(web("GET", "/devices/d%20001", "verbose=1&verbose=2"))
    assert out["statusCode"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert json.loads(out["body"]) == {"id": "d 001", "verbose": ["1", "2"]}


def test_binary_body_in_and_out_is_base64(ow_env: dict[str, str]) -> None:
    data = bytes([0x89, 0x50, 0x4E, 0x47, 0xFF, 0x00, 0x10])
    out = run(web("POST", "/upload", body=base64.b64encode(data).decode(), content_type="image/png"))
    assert out["statusCode"] == 201
    assert out["headers"]["x-size"] == "7"
    assert base64.b64decode(out["body"]) == data[::-1]


def test_raw_fixture_json_body_arrives_decoded(ow_env: dict[str, str]) -> None:
    params = fixture("http-webaction-raw") | {"__ow_path": "/echo"}
    out = run(params)
    assert out == {"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": '{"name":"Jane"}'}


def test_unknown_route_is_404_and_wrong_method_405(ow_env: dict[str, str]) -> None:
    missing = run(web("GET", "/nowhere"))
    assert missing["statusCode"] == 404 and json.loads(missing["body"])["path"] == "/nowhere"
    wrong = run(web("DELETE", "/upload"))
    assert wrong["statusCode"] == 405 and wrong["headers"]["allow"] == "POST"


def test_failing_http_handler_is_a_500_response(ow_env: dict[str, str]) -> None:
    out = run(web("GET", "/boom"))
    assert out["statusCode"] == 500
    assert json.loads(out["body"])["invocation_id"] == ow_env["__OW_ACTIVATION_ID"]


def test_web_request_cannot_choose_the_app(ow_env: dict[str, str]) -> None:
    params = fixture("http-webaction-get-query") | {"__corefn_app": "os:path"}
    out = run(params)  # default mode merged the bogus parameter: it must be ignored, not imported
    assert out["statusCode"] == 404


def test_malformed_web_payload_is_an_application_error(ow_env: dict[str, str]) -> None:
    out = run(web("POST", "/upload", body="not base64 !!", content_type="application/octet-stream"))
    assert out["error"]["type"] == "EventShapeError" and "__ow_body" in out["error"]["message"]


def test_bound_env_parameters_configure_the_api_key(ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_API_KEY", "")  # restored after the test: export_env writes os.environ
    request = web("GET", "/secret") | {"__corefn_env_COREFN_API_KEY": "k-123"}
    assert run(request)["statusCode"] == 401
    request["__ow_headers"]["x-api-key"] = "k-123"
    assert run(request)["statusCode"] == 200
    assert os.environ["COREFN_API_KEY"] == "k-123"


def test_default_mode_request_cannot_set_env(ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_API_KEY", "")
    request = fixture("http-webaction-get") | {"__ow_path": "/secret", "__corefn_env_COREFN_API_KEY": "forged"}
    request["__ow_headers"] = request["__ow_headers"] | {"x-api-key": "forged"}
    assert run(request)["statusCode"] == 401  # merged from the query string: ignored
    assert os.environ["COREFN_API_KEY"] == ""


def test_uninterpolated_env_reference_is_skipped(ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_SINK_THUMBNAILS", "")
    make_main(APP_REF, "resize")({"width": 1, "__corefn_env_COREFN_SINK_THUMBNAILS": "$COREFN_SINK_THUMBNAILS"})
    assert os.environ["COREFN_SINK_THUMBNAILS"] == ""


# ---------------------------------------------------------------------------------- triggers


def test_cos_write_reaches_the_storage_handler_with_context(ow_env: dict[str, str], seen: list[Any]) -> None:
    params = fixture("storage-cos-write")
    out = run(params)
    assert out == {"ok": True, "events": 1, "handled": 1, "skipped": 0}
    event, invocation_id, remaining = seen[0]
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key, event.size, event.operation) == ("originals", "photos/my photo (1).jpg", 1064391, "created")
    assert invocation_id == ow_env["__OW_ACTIVATION_ID"]
    assert remaining is not None and 50 < remaining <= 60


def test_failing_trigger_handler_returns_an_error(ow_env: dict[str, str], seen: list[Any]) -> None:
    params = fixture("storage-cos-delete")
    params["key"] = params["notification"]["object_name"] = "poison.bin"
    params["bucket"] = "originals"
    out = run(params)
    assert set(out) == {"error"}
    failed = out["error"]["failed"]
    assert failed == [
        {"id": "67a2048a-abcd-abcd-9e0c-968744094b85", "handler": "on_object", "type": "ValueError", "message": "cannot process poison.bin"}
    ]


def test_kafka_batch_stops_partition_after_a_failure(ow_env: dict[str, str], seen: list[Any]) -> None:
    params = {
        "messages": [
            {"topic": "mytopic", "partition": 0, "offset": 1, "key": None, "value": "ok"},
            {"topic": "mytopic", "partition": 0, "offset": 2, "key": None, "value": "bad"},
            {"topic": "mytopic", "partition": 0, "offset": 3, "key": None, "value": "ok"},
            {"topic": "mytopic", "partition": 1, "offset": 9, "key": None, "value": "ok"},
        ]
    }
    out = run(params)
    assert [r.sequence for r in seen] == ["1", "2", "9"]  # offset 3 waits behind the failure
    assert [f["id"] for f in out["error"]["failed"]] == ["mytopic/0/2", "mytopic/0/3"]
    assert out["error"]["failed"][1]["type"] == "NotRunAfterFailure"


def test_kafka_binary_flags_decode_keys_and_values(ow_env: dict[str, str], seen: list[Any]) -> None:
    assert run(fixture("stream-kafka-binarykey"))["ok"] is True
    first, second = seen
    assert isinstance(first, StreamRecord) and first.key == "Some key" and first.data.text == "Some data"
    assert second.data.content == bytes.fromhex("89504e470d0a1a0a")


def test_cloudant_changes_reach_the_table_handler(ow_env: dict[str, str], seen: list[Any]) -> None:
    assert run(fixture("nosql-cloudant-includedocs"))["ok"] is True
    assert run(fixture("nosql-cloudant-deleted"))["ok"] is True
    inserted, removed = seen
    assert isinstance(inserted, NoSqlChange) and inserted.operation == "insert" and inserted.new is not None
    assert inserted.new["item"] == "lamp"
    assert (removed.operation, dict(removed.keys), removed.new) == ("remove", {"_id": "order-17"}, None)


def test_cloudant_change_without_dbname_goes_to_the_only_table_handler(ow_env: dict[str, str], seen: list[Any]) -> None:
    assert run(fixture("nosql-cloudant-change"))["ok"] is True  # the README's sample has no dbname
    assert seen[0].table is None and seen[0].operation == "upsert" and seen[0].sequence.startswith("2-g1AA")


def test_alarm_with_markers_runs_the_timer(ow_env: dict[str, str], seen: list[Any]) -> None:
    params = {"corefn_timer": "nightly_report", "corefn_schedule": "0 2 * * *", "corefn_tz": "Asia/Seoul"}
    assert run(params)["ok"] is True
    assert isinstance(seen[0], TimerEvent) and seen[0].name == "nightly_report" and seen[0].time is None


# ---------------------------------------------------------------------------- direct invoke


def test_invoke_strips_corefn_parameters(ow_env: dict[str, str], seen: list[Any]) -> None:
    out = make_main(APP_REF, "resize")({"width": 21, "__corefn_app": APP_REF, "__corefn_handler": "resize"})
    assert out == {"width": 42}
    assert isinstance(seen[0], InvokeEvent) and seen[0].payload == {"width": 21}


def test_invoke_non_dict_result_is_wrapped(ow_env: dict[str, str], seen: list[Any]) -> None:
    assert make_main(APP_REF, "resize")({"width": 3, "as_list": True}) == {"result": [3]}


def test_failing_invoke_handler_returns_an_error(ow_env: dict[str, str], seen: list[Any]) -> None:
    out = make_main(APP_REF, "resize")({"width": 3, "fail": True})
    assert out == {"error": {"type": "RuntimeError", "message": "resize failed"}}


def test_plain_main_reads_bound_parameters_and_env(ow_env: dict[str, str], seen: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main({"width": 5, "__corefn_app": APP_REF, "__corefn_handler": "resize"}) == {"width": 10}
    monkeypatch.setenv("COREFN_APP", APP_REF)
    monkeypatch.setenv("COREFN_HANDLER", "resize")
    assert main({"width": 6}) == {"width": 12}


def test_warmup_ping_runs_no_user_code(ow_env: dict[str, str], seen: list[Any]) -> None:
    assert make_main(APP_REF, "resize")({"corefn": "warmup"}) == {"warmup": True}
    assert seen == []


def test_unloadable_app_is_an_application_error(ow_env: dict[str, str]) -> None:
    out = make_main("tests.openwhisk.no_such_module:app", "resize")({"width": 1})
    assert out["error"]["type"] == "AppLoadError"


def test_deadline_and_activation_id_come_from_the_runtime(ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn_openwhisk.runtime import context

    monkeypatch.setenv("__OW_DEADLINE", "1700000000123")
    ctx = context(None, "resize")
    assert (ctx.cloud, ctx.invocation_id, ctx.deadline, ctx.function) == ("openwhisk", ow_env["__OW_ACTIVATION_ID"], 1700000000.123, "resize")
    monkeypatch.delenv("__OW_DEADLINE")
    assert context(None, None).deadline is None


@pytest.mark.parametrize("params", [[], "text", None])
def test_non_object_params_are_refused(ow_env: dict[str, str], params: Any) -> None:
    assert run(params)["error"]["type"] == "UnrecognizedPayloadError"
