"""Firestore (``firestore://``) against Google's emulator: the table contract, then the document
layout, preconditions and id encoding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkConflictError
from corefn.sinks.base import Table
from corefn_gcp.sinks.firestore import FirestoreTable, doc_id, open_backend
from tests.fixtures.emulators import FirestoreEmulator
from tests.sinks.contract import TableContract, make_spec, unique

MakeTable = Callable[[str, str | None], Table]


@pytest.fixture
def firestore(firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> FirestoreEmulator:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", firestore_emulator.project)
    return firestore_emulator


@pytest.fixture
def make_table(firestore: FirestoreEmulator) -> MakeTable:
    """A fresh collection each time (collections need no creation in Firestore)."""

    def make(key: str, sort_key: str | None) -> Table:
        return open_backend(make_spec("table", key=key, sort_key=sort_key), f"firestore://{unique('c')}")

    return make


class TestFirestoreContract(TableContract):
    pass


def test_layout_partition_subcollections(make_table: MakeTable) -> None:
    table: Any = make_table("device", "ts")
    table.put({"device": "d/1", "ts": 5, "v": 1})
    path = table._collection.document("d%2F1").collection(table._collection.id).document("5")
    assert path.get().to_dict() == {"device": "d/1", "ts": 5, "v": 1}


def test_integer_sort_keys_order_numerically(make_table: MakeTable) -> None:
    table = make_table("device", "ts")
    for ts in (10, 9, 100, -5):
        table.put({"device": "d", "ts": ts})
    assert [i["ts"] for i in table.query("d")] == [-5, 9, 10, 100]
    assert [i["ts"] for i in table.query("d", sort_op=">=", sort_value=10)] == [10, 100]


def test_precondition_failure_on_a_concurrent_write(make_table: MakeTable, monkeypatch: pytest.MonkeyPatch) -> None:
    """The version check is the server's update_time precondition, not only a read-compare:
    a write landing between our read and our update still makes ours fail."""
    table: Any = make_table("id", None)
    first = table.put({"id": "race", "n": 1})
    ref = table._ref("race", None)
    real_update = type(ref).update

    def update_after_a_rival(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.set({"id": "race", "n": 99})  # the rival's write, after our read
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(type(ref), "update", update_after_a_rival)
    with pytest.raises(SinkConflictError) as caught:
        table.put({"id": "race", "n": 2}, if_version=first["_version"])
    assert type(caught.value.cause).__name__ == "FailedPrecondition"
    monkeypatch.undo()
    got = table.get("race")
    assert got is not None and got["n"] == 99


def test_versioned_put_is_a_full_replacement(make_table: MakeTable) -> None:
    table = make_table("id", None)
    first = table.put({"id": "r", "a": {"x": 1, "y": 2}, "b": 1, "odd.name": 1})
    table.put({"id": "r", "a": {"x": 3}, "odd.name": 2}, if_version=first["_version"])
    got = table.get("r")
    assert got is not None
    del got["_version"]
    assert got == {"id": "r", "a": {"x": 3}, "odd.name": 2}


@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"), ("a/b", "a%2Fb"), ("5%", "5%25"), (7, "7"), (".", "%2E"), ("..", "%2E%2E"),
    ("__id__", "%5F%5Fid%5F%5F"), ("", "%00"),
])  # fmt: skip
def test_doc_id(value: Any, text: str) -> None:
    assert doc_id(value) == text


def test_query_without_sort_key(make_table: MakeTable) -> None:
    table = make_table("id", None)
    table.put({"id": "one"})
    assert [i["id"] for i in table.query("one")] == ["one"]
    assert list(table.query("two")) == []
    with pytest.raises(ConfigurationError):
        table.query("one", sort_op="=", sort_value="x")


def test_url_forms_and_permissions(firestore: FirestoreEmulator) -> None:
    table = open_backend(make_spec("table"), "firestore://other-project/devices?database=(default)")
    assert table._client.project == "other-project"
    (grant,) = FirestoreTable.permissions("firestore://p/devices?database=iot", "table")
    assert (grant.actions, grant.resource) == (("roles/datastore.user",), "projects/p/databases/iot")


def test_a_declared_table_is_bound_by_configuration(firestore: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn import App

    app = App("iot")
    readings = app.table("readings", key="device", sort_key="ts")
    monkeypatch.setenv("COREFN_SINK_READINGS", f"firestore://{unique('readings')}")
    readings.put({"device": "d1", "ts": 2, "c": 21.5})
    readings.put({"device": "d1", "ts": 1, "c": 20.0})
    assert type(readings.backend) is FirestoreTable
    assert [r["c"] for r in readings.query("d1")] == [20.0, 21.5]
