"""Two spellings AWS uses for the same thing, both read: an EventBridge Scheduler ``detail``
sent as a JSON string, and S3 event names with the ``s3:`` prefix of the configuration API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corefn.adapters import parse
from corefn.errors import EventShapeError
from corefn_aws.storage import NOTIFICATION_OPERATIONS
from tests.aws.conftest import load


def _tick(detail: Any) -> Any:
    return parse(load("timer-eventbridge-scheduler-detail-string") | {"detail": detail}, cloud="aws").events[0]


@pytest.mark.parametrize(
    "detail", [{"schedule": "0 9 * * 1-5", "tz": "Asia/Seoul"}, json.dumps({"schedule": "0 9 * * 1-5", "tz": "Asia/Seoul"})]
)
def test_scheduler_detail_reads_the_same_as_object_or_string(detail: Any) -> None:
    assert _tick(detail).schedule == "0 9 * * 1-5"


@pytest.mark.parametrize("detail", ["{}", "null", {}, None])
def test_scheduler_detail_without_a_schedule_is_still_a_tick(detail: Any) -> None:
    event = _tick(detail)
    assert event.kind == "timer" and event.schedule is None and event.name == "aaaaa"


@pytest.mark.parametrize("detail, problem", [("{oops", "should be JSON"), ("[1]", "got list"), (7, "got int")])
def test_scheduler_detail_that_is_no_object_is_named(detail: Any, problem: str) -> None:
    with pytest.raises(EventShapeError) as info:
        _tick(detail)
    assert info.value.field == "detail" and problem in str(info.value)


@pytest.mark.parametrize("prefix", sorted(NOTIFICATION_OPERATIONS))
def test_s3_event_names_read_the_same_with_and_without_the_s3_prefix(prefix: str) -> None:
    payload = load("storage-s3-put")
    operations = []
    for name in (f"{prefix}:Something", f"s3:{prefix}:Something", prefix, f"s3:{prefix}"):
        payload["Records"][0]["eventName"] = name
        operations.append(parse(payload, cloud="aws").events[0].operation)  # type: ignore[attr-defined]
    assert operations == [NOTIFICATION_OPERATIONS[prefix]] * 4


@pytest.mark.parametrize("name", ["s3:", "s3:Nonsense:Put", "S3:ObjectCreated:Put"])
def test_unknown_s3_event_names_are_still_refused(name: str) -> None:
    payload = load("storage-s3-put")
    payload["Records"][0]["eventName"] = name
    with pytest.raises(EventShapeError) as info:
        parse(payload, cloud="aws")
    assert info.value.field == "Records[0].eventName"
