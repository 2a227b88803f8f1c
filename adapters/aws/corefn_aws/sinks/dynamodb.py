"""``dynamodb://table`` — a table sink on Amazon DynamoDB (``?region=`` overrides the region).

The sink's ``key`` / ``sort_key`` options name the table's partition and sort key attributes (as
created: corefn does not create tables). Items are plain JSON both ways: numbers go in as
``Decimal`` (floats through their shortest repr, so 0.1 stays 0.1) and come back as ``int`` when
integral, else ``float``; string and number sets come back as sorted lists, binary as bytes.

Reads are strongly consistent (``ConsistentRead``: a handler reads what it just wrote, as the
local table guarantees; it costs twice the read capacity of an eventually consistent read).

Optimistic concurrency: each write stores a fresh random ``_version`` token in the item.
``if_version=v`` becomes ``ConditionExpression: #v = :v``, ``if_absent`` becomes
``attribute_not_exists(<partition key>)``; a failed condition
(``ConditionalCheckFailedException``) raises SinkConflictError. A random token rather than a
counter because a counter would need a read or an UpdateItem, and UpdateItem cannot replace an
item wholesale the way ``put`` promises.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from corefn.errors import ConfigurationError
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_aws.sinks._aws import aws_errors, client, url_parts

VERSION = "_version"

#: sort-key operators → KeyConditionExpression fragments (``#sk`` / ``:sk`` are placeholders)
SORT_CONDITIONS: dict[str, str] = {
    "=": "#sk = :sk",
    "<": "#sk < :sk",
    "<=": "#sk <= :sk",
    ">": "#sk > :sk",
    ">=": "#sk >= :sk",
    "begins_with": "begins_with(#sk, :sk)",
}


def to_dynamo(value: Any) -> Any:
    """Plain JSON → what boto3's TypeSerializer accepts (it refuses float)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """TypeDeserializer output → plain JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(from_dynamo(v) for v in value)
    if type(value).__name__ == "Binary":
        return bytes(value.value)
    return value


class DynamoTable:
    """A :class:`~corefn.sinks.base.Table` on one DynamoDB table (low-level client, so the
    service model is loaded once and shared with other DynamoDB sinks)."""

    families: ClassVar[tuple[str, ...]] = ("table",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.table, _, query = url_parts(url, "dynamodb")
        self.region = query.get("region")
        self.key = str(spec.options.get("key") or "id")
        sort_key = spec.options.get("sort_key")
        self.sort_key = str(sort_key) if sort_key else None
        self._codec: tuple[Any, Any] | None = None

    @property
    def client(self) -> Any:
        return client("dynamodb", region=self.region)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        table, _, _ = url_parts(url, "dynamodb")
        resource = f"arn:aws:dynamodb:*:*:table/{table}"
        return [
            Permission("aws", ("dynamodb:GetItem", "dynamodb:Query"), resource),
            Permission("aws", ("dynamodb:PutItem", "dynamodb:DeleteItem"), resource),
        ]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    # ------------------------------------------------------------------ marshalling

    def _types(self) -> tuple[Any, Any]:
        if self._codec is None:
            from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

            self._codec = (TypeSerializer(), TypeDeserializer())
        return self._codec

    def _marshal(self, item: Mapping[str, Any]) -> dict[str, Any]:
        serializer = self._types()[0]
        try:
            return {k: serializer.serialize(to_dynamo(v)) for k, v in item.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"table {self.name!r}: item is not plain JSON: {exc}") from None

    def _unmarshal(self, item: Mapping[str, Any]) -> dict[str, Any]:
        deserializer = self._types()[1]
        return {k: from_dynamo(deserializer.deserialize(v)) for k, v in item.items()}

    def _address(self, key: Any, sort: Any) -> dict[str, Any]:
        if self.sort_key is None:
            if sort is not None:
                raise ConfigurationError(f"table {self.name!r} has no sort key, but one was given")
            return self._marshal({self.key: key})
        if sort is None:
            raise ConfigurationError(f"table {self.name!r}: sort key {self.sort_key!r} is required")
        return self._marshal({self.key: key, self.sort_key: sort})

    # ------------------------------------------------------------------ operations

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        with aws_errors(self.name):
            answer = self.client.get_item(TableName=self.table, Key=self._address(key, sort), ConsistentRead=True)
        found = answer.get("Item")
        return None if found is None else self._unmarshal(found)

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        if self.key not in item or (self.sort_key is not None and self.sort_key not in item):
            raise ConfigurationError(f"table {self.name!r}: item lacks its key attribute(s) {self.key!r}{', ' + repr(self.sort_key) if self.sort_key else ''}")
        new = {k: v for k, v in item.items() if k != VERSION}
        new[VERSION] = uuid.uuid4().hex
        request: dict[str, Any] = {"TableName": self.table, "Item": self._marshal(new)}
        conditions, names, values = [], {}, {}
        if if_absent:
            conditions.append("attribute_not_exists(#pk)")
            names["#pk"] = self.key
        if if_version is not None:
            conditions.append("#v = :v")
            names["#v"] = VERSION
            values[":v"] = self._types()[0].serialize(to_dynamo(if_version))
        if conditions:
            request["ConditionExpression"] = " AND ".join(conditions)
            request["ExpressionAttributeNames"] = names
            if values:
                request["ExpressionAttributeValues"] = values
        with aws_errors(self.name):
            self.client.put_item(**request)
        return new

    def delete(self, key: Any, sort: Any = None) -> None:
        with aws_errors(self.name):
            self.client.delete_item(TableName=self.table, Key=self._address(key, sort))

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        names = {"#pk": self.key}
        values = self._marshal({":pk": key})
        condition = "#pk = :pk"
        if sort_op is not None:
            if sort_op not in SORT_CONDITIONS:
                raise ConfigurationError(f"sort_op must be one of {', '.join(SORT_CONDITIONS)}, got {sort_op!r}")
            if self.sort_key is None:
                raise ConfigurationError(f"table {self.name!r} has no sort key to compare with {sort_op!r}")
            condition += " AND " + SORT_CONDITIONS[sort_op]
            names["#sk"] = self.sort_key
            values.update(self._marshal({":sk": sort_value}))
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            "ScanIndexForward": True,
        }
        return self._pages(request, limit)

    def _pages(self, request: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Lazily follows ``LastEvaluatedKey`` (DynamoDB pages at 1 MB)."""
        left = limit
        with aws_errors(self.name):
            while left is None or left > 0:
                if left is not None:
                    request["Limit"] = left
                answer = self.client.query(**request)
                for found in answer.get("Items", ()):
                    yield self._unmarshal(found)
                if left is not None:
                    left -= len(answer.get("Items", ()))
                if "LastEvaluatedKey" not in answer:
                    return
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def open_backend(spec: SinkSpec, url: str) -> DynamoTable:
    return DynamoTable(spec, url)
