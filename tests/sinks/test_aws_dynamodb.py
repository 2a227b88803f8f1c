"""DynamoDB on the moto server, against the table contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from corefn.errors import SinkNotFoundError
from corefn_aws.sinks.dynamodb import DynamoTable, from_dynamo, open_backend, to_dynamo
from tests.fixtures.emulators import MotoServer
from tests.sinks.contract import TableContract, make_spec, unique


def create_table(key: str, sort_key: str | None) -> str:
    import boto3

    name = unique("tbl")
    schema = [{"AttributeName": key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": key, "AttributeType": "S"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": sort_key, "AttributeType": "S"})
    boto3.client("dynamodb").create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )
    return name


@pytest.fixture
def make_table(aws_env: MotoServer) -> Callable[[str, str | None], DynamoTable]:
    def make(key: str, sort_key: str | None) -> DynamoTable:
        return open_backend(make_spec("table", "devices", key=key, sort_key=sort_key), f"dynamodb://{create_table(key, sort_key)}")

    return make


class TestDynamoDB(TableContract):
    pass


def test_items_are_stored_as_native_dynamodb_types(make_table: Callable[[str, str | None], DynamoTable]) -> None:
    import boto3

    table = make_table("id", None)
    table.put({"id": "a", "n": 3, "f": 0.1, "tags": ["x"], "m": {"k": True}})
    raw = boto3.client("dynamodb").get_item(TableName=table.table, Key={"id": {"S": "a"}})["Item"]
    assert raw["n"] == {"N": "3"} and raw["f"] == {"N": "0.1"}
    assert raw["tags"] == {"L": [{"S": "x"}]} and raw["m"] == {"M": {"k": {"BOOL": True}}}


def test_query_follows_pages(make_table: Callable[[str, str | None], DynamoTable]) -> None:
    table = make_table("pk", "sk")
    filler = "x" * 200_000  # DynamoDB pages at 1 MB: 12 items of ~200 KB need 3 pages
    for i in range(12):
        table.put({"pk": "p", "sk": f"{i:02d}", "blob": filler})
    assert [i["sk"] for i in table.query("p")] == [f"{i:02d}" for i in range(12)]
    assert len(list(table.query("p", limit=7))) == 7


def test_missing_table_is_not_found(aws_env: MotoServer) -> None:
    table = open_backend(make_spec("table", "devices", key="id"), "dynamodb://no-such-table")
    with pytest.raises(SinkNotFoundError):
        table.get("x")


@pytest.mark.parametrize(("plain", "stored"), [(1.5, "1.5"), (0.1, "0.1"), (10, "10"), (-2.0, "-2.0")])
def test_number_conversion(plain: Any, stored: str) -> None:
    assert str(to_dynamo(plain)) == stored
    assert from_dynamo(to_dynamo(plain)) == plain


def test_sets_and_binary_become_json() -> None:
    from decimal import Decimal

    from boto3.dynamodb.types import Binary

    assert from_dynamo({"s": {"b", "a"}, "n": {Decimal(2), Decimal("1.5")}, "b": Binary(b"\x00")}) == {"s": ["a", "b"], "n": [1.5, 2], "b": b"\x00"}


def test_permissions() -> None:
    grants = DynamoTable.permissions("dynamodb://devices", "table")
    assert [g.actions for g in grants] == [("dynamodb:GetItem", "dynamodb:Query"), ("dynamodb:PutItem", "dynamodb:DeleteItem")]
    assert {g.resource for g in grants} == {"arn:aws:dynamodb:*:*:table/devices"}
