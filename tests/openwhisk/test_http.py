"""Web action details: default-mode query/body reconstruction, OpenWhisk's base64 rule for
request and response bodies, and the CLI on OpenWhisk payloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from corefn.adapters import parse
from corefn.events.http import HttpResponse
from corefn_openwhisk.http import is_binary, web_response

EVENTS = Path(__file__).parent.parent / "events" / "openwhisk"


def request(name: str) -> dict[str, Any]:
    event = parse(json.loads((EVENTS / f"{name}.json").read_text()), cloud="openwhisk").events[0]
    out: dict[str, Any] = event.to_dict()
    return out


def test_default_mode_get_reads_merged_params_as_query() -> None:
    got = request("http-webaction-get-query")
    assert (got["query"], got["body"]) == ({"name": ["Jane"]}, "")


def test_default_mode_json_post_rebuilds_the_json_body() -> None:
    got = request("http-webaction-post-json")
    assert (got["query"], got["body"]) == ({}, '{"name":"Jane"}')
    assert len(got["body"]) == int(got["headers"]["content-length"])  # the same 15 bytes the client sent


def test_default_mode_text_post_keeps_ow_body() -> None:
    got = request("http-webaction-post-text")
    assert (got["query"], got["body"]) == ({}, "Jane")


def test_default_mode_non_string_params_become_json_text_in_query() -> None:
    params = {"__ow_method": "get", "__ow_headers": {}, "__ow_path": "/x", "n": 5, "ok": True, "tags": ["a", 2], "__corefn_app": "m:app"}
    got = parse(params, cloud="openwhisk").events[0].to_dict()
    assert got["query"] == {"n": ["5"], "ok": ["true"], "tags": ["a", "2"]}


def test_default_mode_json_array_body_arrives_parsed_in_ow_body() -> None:
    params = {"__ow_method": "post", "__ow_headers": {"content-type": "application/json"}, "__ow_path": "", "__ow_body": [1, {"a": 2}], "x": "1"}
    got = parse(params, cloud="openwhisk").events[0].to_dict()
    assert (got["body"], got["query"]) == ('[1,{"a":2}]', {"x": ["1"]})


def test_raw_mode_json_body_is_base64_as_openwhisk_sends_it() -> None:
    got = request("http-webaction-raw")
    assert got["body"] == '{"name":"Jane"}' and "body_encoding" not in got


@pytest.mark.parametrize(
    "content_type, request_side, expected",
    [
        ("application/json", True, True),  # "for legacy, we are encoding application/json still"
        ("application/json; charset=utf-8", True, True),
        ("application/json", False, False),
        ("text/plain", True, False),
        ("text/csv; charset=utf-8", True, False),
        ("application/x-www-form-urlencoded", True, False),
        ("application/xml", True, False),
        ("image/png", True, True),
        ("application/octet-stream", False, True),
        ("application/x-custom", True, True),  # unknown, no charset: Akka's custom binary type
        ("application/x-custom; charset=utf-8", True, False),
        (None, True, True),  # no content type: application/octet-stream
    ],
)
def test_openwhisk_binary_rule(content_type: str | None, request_side: bool, expected: bool) -> None:
    assert is_binary(content_type, request=request_side) is expected


def test_web_response_text_json_binary_and_cookies() -> None:
    assert web_response(HttpResponse.json({"a": 1})) == {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"a":1}'}
    png = web_response(HttpResponse(200, {"content-type": "image/png"}, b"\x89PNG"))
    assert png["body"] == "iVBORw=="
    raw = web_response(HttpResponse(200, {}, b"\xff\xfe"))
    assert raw == {"statusCode": 200, "headers": {"content-type": "application/octet-stream"}, "body": "//4="}
    cookies = web_response(HttpResponse(302, {"location": "/"}, b"", ("a=1", "b=2")))
    assert cookies == {"statusCode": 302, "headers": {"location": "/", "set-cookie": ["a=1", "b=2"]}, "body": ""}


def _inspect(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "corefn"), "inspect", *args],  # the console script beside this Python
        input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_cli_reads_an_openwhisk_fixture() -> None:
    done = _inspect(str(EVENTS / "storage-cos-write.json"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["cloud"], out["shape"], out["events"][0]["key"]) == ("openwhisk", "cos", "photos/my photo (1).jpg")


def test_cli_refuses_a_malformed_web_payload_in_one_line() -> None:
    done = _inspect("-", "--cloud", "openwhisk", stdin='{"__ow_method": "get", "__ow_path": 7}')
    assert done.returncode == 2
    assert "__ow_path" in done.stderr and len(done.stderr.strip().splitlines()) == 1
