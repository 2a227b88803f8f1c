"""Cloudant (``cloudant://``) through the ibmcloudant SDK against pouchdb-server (the CouchDB
API Cloudant serves): the table contract, then ids, revisions and configuration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from corefn.errors import (
    ConfigurationError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.sinks.base import Table
from corefn_openwhisk.sinks.cloudant import CloudantTable, key_part, open_backend, parse_url, to_sink_error
from tests.fixtures.emulators import PouchdbServer
from tests.sinks.contract import TableContract, make_spec, unique

MakeTable = Callable[[str, str | None], Table]


@pytest.fixture
def cloudant(pouchdb_server: PouchdbServer, monkeypatch: pytest.MonkeyPatch) -> PouchdbServer:
    monkeypatch.setenv("CLOUDANT_URL", pouchdb_server.url)
    for name in ("CLOUDANT_APIKEY", "CLOUDANT_AUTH_TYPE", "CLOUDANT_USERNAME", "CLOUDANT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return pouchdb_server


@pytest.fixture
def make_table(cloudant: PouchdbServer) -> Iterator[MakeTable]:
    from ibm_cloud_sdk_core.authenticators import NoAuthAuthenticator
    from ibmcloudant.cloudant_v1 import CloudantV1

    admin = CloudantV1(authenticator=NoAuthAuthenticator())
    admin.set_service_url(cloudant.url)
    created: list[str] = []

    def make(key: str, sort_key: str | None) -> Table:
        name = unique("db")
        admin.put_database(db=name)
        created.append(name)
        return open_backend(make_spec("table", key=key, sort_key=sort_key), f"cloudant://{name}")

    yield make
    for name in created:
        admin.delete_database(db=name)


class TestCloudantContract(TableContract):
    pass


def test_ids_and_revisions(make_table: MakeTable) -> None:
    table: Any = make_table("device", "ts")
    stored = table.put({"device": "a:b", "ts": "2024", "v": 1})
    raw = table._client.get_document(table.db, "a%3Ab:2024").get_result()
    assert raw["_rev"] == stored["_version"] and raw["v"] == 1
    again = table.put({"device": "a:b", "ts": "2024", "v": 2})  # unconditional: reads the _rev itself
    assert again["_version"].startswith("2-")


def test_integer_sort_keys_and_pages(make_table: MakeTable, monkeypatch: pytest.MonkeyPatch) -> None:
    import corefn_openwhisk.sinks.cloudant as module

    monkeypatch.setattr(module, "PAGE", 3)  # cross page boundaries of _all_docs
    table = make_table("device", "ts")
    for ts in (10, 9, 100, -5, 0, 7, 8):
        table.put({"device": "d", "ts": ts})
    table.put({"device": "e", "ts": 1})
    assert [i["ts"] for i in table.query("d")] == [-5, 0, 7, 8, 9, 10, 100]
    assert [i["ts"] for i in table.query("d", sort_op=">", sort_value=7)] == [8, 9, 10, 100]
    assert [i["ts"] for i in table.query("d", sort_op="<", sort_value=9, limit=2)] == [-5, 0]


def test_stale_revision_of_a_deleted_item_is_a_conflict(make_table: MakeTable) -> None:
    table = make_table("id", None)
    stored = table.put({"id": "x"})
    table.delete("x")
    with pytest.raises(SinkConflictError):
        table.put({"id": "x", "n": 1}, if_version=stored["_version"])


def test_reserved_names_are_refused(make_table: MakeTable) -> None:
    table = make_table("id", None)
    with pytest.raises(ConfigurationError, match="CouchDB"):
        table.put({"id": "x", "_private": 1})
    table.put({"id": "_design"})  # a leading underscore in a key is encoded, not refused
    got = table.get("_design")
    assert got is not None and got["id"] == "_design"


def test_missing_database_is_not_found(cloudant: PouchdbServer) -> None:
    table = open_backend(make_spec("table"), "cloudant://no-such-db")
    with pytest.raises(SinkNotFoundError):
        table.put({"id": "x"})


def test_unreachable_service_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDANT_URL", "http://127.0.0.1:9")
    table = open_backend(make_spec("table"), "cloudant://db")
    with pytest.raises(SinkUnavailableError):
        table.get("x")


def test_url_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDANT_URL", raising=False)
    assert parse_url("cloudant://acct.cloudantnosqldb.appdomain.cloud/orders") == (
        "https://acct.cloudantnosqldb.appdomain.cloud", "orders")  # fmt: skip
    with pytest.raises(ConfigurationError, match="CLOUDANT_URL"):
        parse_url("cloudant://orders")
    monkeypatch.setenv("CLOUDANT_URL", "http://localhost:5984/")
    assert parse_url("cloudant://orders") == ("http://localhost:5984", "orders")


def test_api_key_selects_iam(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDANT_URL", "http://localhost:5984")
    monkeypatch.setenv("CLOUDANT_APIKEY", "not-a-real-key")
    table = open_backend(make_spec("table"), "cloudant://orders")
    assert type(table._client.authenticator).__name__ == "IAMAuthenticator"


@pytest.mark.parametrize(("value", "ordered", "text"), [
    ("a:b", False, "a%3Ab"), ("a:b", True, "a:b"), ("5%", False, "5%25"), (3, False, "3"), (0, True, "09223372036854775808"),
])  # fmt: skip
def test_key_part(value: Any, ordered: bool, text: str) -> None:
    assert key_part(value, ordered=ordered) == text


def test_permissions() -> None:
    (grant,) = CloudantTable.permissions("cloudant://acct.example/orders", "table")
    assert (grant.cloud, grant.actions, grant.resource) == ("openwhisk", ("Writer",), "cloudantnosqldb:acct.example/orders")


@pytest.mark.parametrize(("status", "family"), [
    (404, SinkNotFoundError), (409, SinkConflictError), (429, SinkThrottledError), (503, SinkThrottledError),
    (500, SinkUnavailableError), (401, SinkUnavailableError), (400, SinkError),
])  # fmt: skip
def test_status_mapping(status: int, family: type[SinkError]) -> None:
    import requests
    from ibm_cloud_sdk_core import ApiException

    response = requests.Response()
    response.status_code = status
    response.headers["Retry-After"] = "4"
    error = to_sink_error("s", ApiException(status, message="m", http_response=response))
    assert type(error) is family
    if isinstance(error, SinkThrottledError):
        assert error.retry_after == 4.0


def test_a_declared_table_is_bound_by_configuration(make_table: MakeTable, cloudant: PouchdbServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn import App

    database = make_table("id", None).db  # type: ignore[attr-defined]
    app = App("shop")
    orders = app.table("orders")
    monkeypatch.setenv("COREFN_SINK_ORDERS", f"cloudant://{database}")
    orders.put({"id": "o1", "total": 9.5})
    assert type(orders.backend) is CloudantTable
    got = orders.get("o1")
    assert got is not None and got["total"] == 9.5
