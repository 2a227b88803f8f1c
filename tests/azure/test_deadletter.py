"""Dead letters of Event Hubs and Cosmos DB handlers on a real Azurite: a failing handler's batch
is written to its dead letter (a blob container, or a queue) on the last attempt of its retry
policy only, then the failure is raised as before; earlier attempts only raise (the host retries).
The binding objects are azure-functions' own (``func.EventHubEvent``, ``func.DocumentList``); the
retry context is what the host passes (``retry_count`` of ``max_retry_count``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from corefn.app import App
from corefn.errors import ConfigurationError
from corefn_azure.deadletter import is_last_attempt, run, setting_name
from tests.azure.test_binding_objects import _metadata


class Retry:
    def __init__(self, count: int, limit: int) -> None:
        self.retry_count, self.max_retry_count, self.exception = count, limit, None


class Ctx:
    def __init__(self, retry: Retry | None) -> None:
        self.invocation_id, self.retry_context = uuid.uuid4().hex, retry


def failing_app() -> App:
    app = App("dl")

    @app.stream("clicks", max_attempts=3)
    def on_clicks(event: Any) -> None:
        raise RuntimeError("boom")

    @app.nosql("orders", max_attempts=2)
    def on_orders(event: Any) -> None:
        raise ValueError("bad order")

    return app


@pytest.fixture
def storage(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    for name in ("AzureWebJobsStorage", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return azurite


def test_last_attempt_rule() -> None:
    assert is_last_attempt(Ctx(Retry(2, 2))) and is_last_attempt(Ctx(None))
    assert not is_last_attempt(Ctx(Retry(1, 2)))
    assert not is_last_attempt(Ctx(Retry(50, -1)))  # retried forever: never dead-lettered


def test_event_hubs_batch_goes_to_the_container_on_the_last_attempt_only(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    container = f"dl-{uuid.uuid4().hex[:10]}"
    service = BlobServiceClient.from_connection_string(storage.connection_string)
    service.create_container(container)
    monkeypatch.setenv(setting_name("on_clicks"), f"az://{container}")
    app = failing_app()
    events = [func.EventHubEvent(body=b'{"x": 1}', trigger_metadata=_metadata({"PartitionId": "0"}), partition_key="d1", sequence_number=7, offset="100",
                                 enqueued_time=datetime(2026, 1, 2, tzinfo=UTC)),
              func.EventHubEvent(body=b"\xff\x00", trigger_metadata=_metadata({"PartitionId": "0"}), sequence_number=8, offset="200")]  # fmt: skip
    with pytest.raises(RuntimeError, match="boom"):
        run(app, "on_clicks", events, Ctx(Retry(1, 2)))
    assert list(service.get_container_client(container).list_blobs()) == []
    last = Ctx(Retry(2, 2))
    with pytest.raises(RuntimeError, match="boom"):
        run(app, "on_clicks", events, last)
    blobs = sorted(b.name for b in service.get_container_client(container).list_blobs())
    assert len(blobs) == 2 and all(b.startswith("on_clicks/") and last.invocation_id in b for b in blobs)
    first, second = (json.loads(service.get_blob_client(container, b).download_blob().readall()) for b in blobs)
    assert first["handler"] == "on_clicks" and first["error"] == "RuntimeError: boom"
    assert first["record"] == {"body": '{"x": 1}', "partition_key": "d1", "sequence_number": 7, "offset": "100",
                               "enqueued_time": "2026-01-02T00:00:00+00:00"}  # fmt: skip
    assert second["record"]["body_base64"] == "/wA="


def test_cosmos_documents_go_to_a_queue(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = f"dl-{uuid.uuid4().hex[:10]}"
    client = QueueClient.from_connection_string(storage.connection_string, queue)
    client.create_queue()
    monkeypatch.setenv(setting_name("on_orders"), f"azqueue://{queue}")
    docs = func.DocumentList([func.Document.from_dict({"id": "o1", "total": 3}), func.Document.from_dict({"id": "o2"})])
    with pytest.raises(ValueError, match="bad order"):
        run(failing_app(), "on_orders", docs, Ctx(Retry(1, 1)))
    reader = QueueClient.from_connection_string(storage.connection_string, queue, message_decode_policy=TextBase64DecodePolicy())
    letters = sorted((json.loads(m.content) for m in reader.receive_messages(max_messages=10)), key=lambda m: m["record"]["document"]["id"])
    assert [m["record"]["document"]["id"] for m in letters] == ["o1", "o2"]
    assert letters[0]["error"] == "ValueError: bad order"


def test_an_unset_dead_letter_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(setting_name("on_clicks"), raising=False)
    with pytest.raises(ConfigurationError, match="COREFN_DEADLETTER_ON_CLICKS"):
        run(failing_app(), "on_clicks", [func.EventHubEvent(body=b"x")], Ctx(Retry(2, 2)))
