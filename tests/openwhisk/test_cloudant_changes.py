"""Real CouchDB ``_changes`` rows (pouchdb-server speaks the CouchDB API Cloudant implements),
fired the way the ``/whisk.system/cloudant/changes`` provider fires them (each row plus
``dbname``), through the action's ``main(params)``. No mock: the revisions and the deleted flag
come from the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from corefn.events import NoSqlChange
from corefn_openwhisk.runtime import make_main
from tests.openwhisk.conftest import APP_REF

pytestmark = pytest.mark.emulator


@pytest.fixture
def couch(pouchdb_server: Any) -> Iterator[tuple[httpx.Client, str]]:
    client = httpx.Client(base_url=pouchdb_server.url, trust_env=False, timeout=10)
    db = f"ow-orders-{uuid.uuid4().hex[:8]}"
    assert client.put(f"/{db}").status_code == 201
    yield client, db
    client.delete(f"/{db}")
    client.close()


def _put(client: httpx.Client, db: str, doc_id: str, body: dict[str, Any]) -> str:
    answer = client.put(f"/{db}/{doc_id}", json=body)
    assert answer.status_code == 201, answer.text
    rev: str = answer.json()["rev"]
    return rev


def test_changes_feed_rows_become_insert_upsert_remove(couch: tuple[httpx.Client, str], ow_env: dict[str, str], seen: list[Any]) -> None:
    client, db = couch
    _put(client, db, "order-new", {"item": "lamp"})
    rev = _put(client, db, "order-updated", {"item": "desk"})
    _put(client, db, "order-updated", {"item": "desk", "qty": 2, "_rev": rev})
    rev = _put(client, db, "order-gone", {"item": "chair"})
    assert client.delete(f"/{db}/order-gone", params={"rev": rev}).status_code == 200

    rows = client.get(f"/{db}/_changes", params={"since": 0}).json()["results"]
    main = make_main(APP_REF, "on_change")
    for row in rows:
        fired = {**row, "dbname": db}  # what the provider posts to the trigger
        assert main(fired) == {"ok": True, "events": 1, "handled": 1, "skipped": 0, "dead_lettered": []}
    changes: dict[str, NoSqlChange] = {c.keys["_id"]: c for c in seen}
    assert {k: c.operation for k, c in changes.items()} == {"order-new": "insert", "order-updated": "upsert", "order-gone": "remove"}
    assert all(c.table == db and c.new is None and c.old is None for c in changes.values())


def test_changes_with_docs_carry_the_new_document(couch: tuple[httpx.Client, str], ow_env: dict[str, str], seen: list[Any]) -> None:
    client, db = couch
    _put(client, db, "order-9", {"item": "lamp", "qty": 3})
    (row,) = client.get(f"/{db}/_changes", params={"since": 0, "include_docs": "true"}).json()["results"]
    assert make_main(APP_REF, "on_change")({**row, "dbname": db})["ok"] is True
    (change,) = seen
    assert change.operation == "insert" and change.new["qty"] == 3 and change.new["_id"] == "order-9"
