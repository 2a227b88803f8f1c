"""VPC Lattice requests to a Lambda target, event versions 1 and 2: read as HTTP (never by HTTP
API's 2.0 shape) and answered in Lattice's response format."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from corefn.adapters import parse
from corefn.errors import EventShapeError
from corefn_aws.runtime import handler
from tests.aws import fixture_app
from tests.aws.conftest import LambdaContext, load

pytestmark = pytest.mark.usefixtures("lambda_env")


def test_version_1_is_answered_in_lattice_format_with_every_cookie() -> None:
    answer = handler(load("http-vpc-lattice"), LambdaContext())
    (_, request), = fixture_app.RECEIVED
    assert request.json() == {"test": "event"} and request.query["order-id"] == "1"
    assert answer["statusCode"] == 202 and answer["statusDescription"] == "202 Accepted"
    assert answer["body"] == '{"test": "event"}' and answer["isBase64Encoded"] is False
    assert answer["headers"]["content-type"] == "application/json"
    cookies = sorted(v for k, v in answer["headers"].items() if k.lower() == "set-cookie")
    assert cookies == ["a=1", "b=2"]
    assert "multiValueHeaders" not in answer and "cookies" not in answer


def test_version_2_binary_answer_is_base64() -> None:
    answer = handler(load("http-vpc-lattice-v2"), LambdaContext())
    assert answer["statusDescription"] == "200 OK" and answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == b"\x00\xff"
    assert set(answer) == {"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"}


def test_version_2_multi_value_headers_and_query_keep_every_value() -> None:
    (request,) = parse(load("http-vpc-lattice-v2-multivalue"), cloud="aws").events
    assert request.headers.get_all("Header2") == ["value1", "value2"]  # type: ignore[attr-defined]
    assert request.query.get_all("parameter1") == ["value1", "value2"]  # type: ignore[attr-defined]


def test_version_2_is_not_http_api_even_when_malformed() -> None:
    payload = load("http-vpc-lattice-v2")
    del payload["path"]
    with pytest.raises(EventShapeError) as info:
        parse(payload, cloud="aws")
    assert (info.value.shape, info.value.field) == ("vpc-lattice-v2", "path")


def test_http_api_without_its_http_object_is_still_http_api() -> None:
    payload = load("http-apigw-v2")
    del payload["requestContext"]["http"]
    with pytest.raises(EventShapeError) as info:
        parse(payload, cloud="aws")
    assert info.value.shape == "apigw-v2"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"is_base64_encoded": True, "body": "not base64!"}, "body"),
        ({"method": 7}, "method"),
        ({"headers": ["x"]}, "headers"),
    ],
)
def test_version_1_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    payload = load("http-vpc-lattice") | change
    with pytest.raises(EventShapeError) as info:
        parse(payload, cloud="aws")
    assert (info.value.shape, info.value.field) == ("vpc-lattice", field)


def test_a_query_left_in_the_path_is_read_as_the_query() -> None:
    payload = load("http-vpc-lattice") | {"raw_path": "/testpath?order-id=7&x=a%20b", "query_string_parameters": {}}
    (request,) = parse(payload, cloud="aws").events
    assert request.path == "/testpath" and request.query.to_dict() == {"order-id": ["7"], "x": ["a b"]}  # type: ignore[attr-defined]
