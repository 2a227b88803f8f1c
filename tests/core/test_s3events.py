"""``corefn.kit.s3events``: S3-format records as MinIO posts them, the one reading OpenWhisk's
web action and Knative's webhook route share (a real MinIO payload, ``tests/events/knative``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from corefn.errors import EventShapeError
from corefn.kit.s3events import s3_storage_events
from corefn.payload import Reader

MINIO = json.loads((Path(__file__).parents[1] / "events" / "knative" / "storage-minio-webhook.json").read_text())


def read(note: dict[str, Any]) -> Any:
    return s3_storage_events(Reader("knative", "s3-webhook"), note)


def test_a_minio_record_is_a_storage_event_with_its_key_decoded() -> None:
    note = copy.deepcopy(MINIO)
    note["Records"][0]["s3"]["object"]["key"] = "photos/my+photo%281%29.jpg"
    (event,) = read(note)
    assert (event.bucket, event.key, event.operation) == (MINIO["Records"][0]["s3"]["bucket"]["name"], "photos/my photo(1).jpg", "created")


@pytest.mark.parametrize(("name", "operation"), [("s3:ObjectRemoved:Delete", "deleted"), ("s3:ObjectTransition:Complete", "archived")])
def test_each_change_maps_to_its_operation(name: str, operation: str) -> None:
    note = copy.deepcopy(MINIO)
    note["Records"][0]["eventName"] = name
    assert [e.operation for e in read(note)] == [operation]


@pytest.mark.parametrize(("path", "value", "field"), [
    (("eventName",), "s3:ObjectAccessed:Get", "Records[0].eventName"),  # a read is no change
    (("s3", "object", "key"), 7, "Records[0].s3.object.key"),
    (("s3", "bucket"), None, "Records[0].s3.bucket.name"),
])  # fmt: skip
def test_a_malformed_record_names_its_path(path: tuple[str, ...], value: Any, field: str) -> None:
    note = copy.deepcopy(MINIO)
    parent = note["Records"][0]
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    with pytest.raises(EventShapeError) as raised:
        read(note)
    assert raised.value.field == field and raised.value.provider == "knative"
