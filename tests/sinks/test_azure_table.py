"""Table Storage (``aztable://``) against Azurite: the table contract, then what is specific to
Table Storage (key encoding, integer sort keys, the JSON-encoded properties)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn.sinks.base import Table
from corefn_azure.sinks.table import AzureTable, key_text, open_backend
from tests.fixtures.emulators import Azurite
from tests.sinks.contract import TableContract, make_spec, unique


@pytest.fixture
def make_table(azure_storage: Azurite) -> Iterator[Callable[[str, str | None], Table]]:
    from azure.data.tables import TableServiceClient

    service = TableServiceClient.from_connection_string(azure_storage.connection_string)
    created: list[str] = []

    def make(key: str, sort_key: str | None) -> Table:
        name = "t" + unique("").replace("-", "")  # table names are alphanumeric
        service.create_table(name)
        created.append(name)
        return open_backend(make_spec("table", key=key, sort_key=sort_key), f"aztable://{name}")

    yield make
    for name in created:
        service.delete_table(name)


class TestTableStorageContract(TableContract):
    pass


def test_integer_sort_keys_query_in_numeric_order(make_table: Callable[[str, str | None], Table]) -> None:
    table = make_table("device", "ts")
    for ts in (10, 9, 100, -5, 0):
        table.put({"device": "d1", "ts": ts})
    assert [i["ts"] for i in table.query("d1")] == [-5, 0, 9, 10, 100]
    assert [i["ts"] for i in table.query("d1", sort_op=">", sort_value=9)] == [10, 100]
    got = table.get("d1", 100)
    assert got is not None and type(got["ts"]) is int


def test_forbidden_key_characters_round_trip(make_table: Callable[[str, str | None], Table]) -> None:
    table = make_table("path", "name")
    item = {"path": "a/b#c?d\\e%f", "name": "x/y", "v": 1}
    table.put(item)
    got = table.get("a/b#c?d\\e%f", "x/y")
    assert got is not None and got["v"] == 1
    assert [i["name"] for i in table.query("a/b#c?d\\e%f", sort_op="begins_with", sort_value="x/")] == ["x/y"]


def test_entity_is_readable_by_other_table_clients(azure_storage: Azurite, make_table: Any) -> None:
    """Scalars are native typed properties; only null/lists/objects are JSON text."""
    from azure.data.tables import TableClient

    table: AzureTable = make_table("id", None)
    table.put({"id": "e1", "n": 2**40, "s": "text", "tags": ["a"], "off": False})
    raw = TableClient.from_connection_string(azure_storage.connection_string, table.target.resource).get_entity("e1", "")
    assert raw["PartitionKey"] == "e1" and raw["RowKey"] == ""
    assert raw["s"] == "text" and raw["off"] is False and raw["tags"] == '["a"]'
    assert getattr(raw["n"], "value", raw["n"]) == 2**40
    assert raw["corefnJson"] == '["tags"]'


@pytest.mark.parametrize(("value", "ordered", "text"), [
    ("plain", False, "plain"), ("a/b", False, "a%2Fb"), ("50%", False, "50%25"), (7, False, "7"),
    (0, True, "09223372036854775808"), (-1, True, "09223372036854775807"),
])  # fmt: skip
def test_key_text(value: Any, ordered: bool, text: str) -> None:
    assert key_text(value, ordered=ordered) == text


@pytest.mark.parametrize("value", [1.5, True, None, ["a"], 2**64])
def test_key_types_are_limited(value: Any) -> None:
    with pytest.raises(ConfigurationError):
        key_text(value)


def test_missing_table_is_not_found(azure_storage: Azurite) -> None:
    table = open_backend(make_spec("table"), "aztable://nosuchtable")
    with pytest.raises(SinkNotFoundError):
        table.put({"id": "x"})


def test_permissions_scope_the_table() -> None:
    (grant,) = AzureTable.permissions("aztable://acct/devices", "table")
    assert grant.actions == ("Storage Table Data Contributor",)
    assert grant.resource.endswith("storageAccounts/acct/tableServices/default/tables/devices")
