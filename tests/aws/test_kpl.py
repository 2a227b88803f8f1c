"""KPL-aggregated Kinesis records: one stream event per user record, read against aggregates
written by AWS's own aggregator (``make_kpl_fixture.py``), and a failed user record reported by
the Kinesis record that carried it."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corefn.adapters import parse
from corefn.errors import EventShapeError
from corefn_aws._kpl import MAGIC, AggregateError, deaggregate, is_aggregate
from corefn_aws.runtime import handler
from corefn_aws.stream import KPL_MAGIC_BASE64
from tests.aws import fixture_app
from tests.aws.conftest import LambdaContext, load
from tests.aws.make_kpl_fixture import USER_RECORDS, large_records

pytestmark = pytest.mark.usefixtures("lambda_env")

LARGE = json.loads((Path(__file__).parent / "kpl_large.json").read_text())


def _blob(payload: dict[str, Any], index: int = 0) -> bytes:
    return base64.b64decode(payload["Records"][index]["kinesis"]["data"])


def _with_blob(payload: dict[str, Any], blob: bytes) -> dict[str, Any]:
    payload["Records"][0]["kinesis"]["data"] = base64.b64encode(blob).decode()
    return payload


def _signed(message: bytes) -> bytes:
    """An aggregate around ``message`` with a correct digest (a producer's bug, not noise)."""
    return MAGIC + message + hashlib.md5(message).digest()


@pytest.mark.parametrize("fourth", [b"\x00", b"\x7f", b"\xff"])
def test_the_base64_marker_is_the_magic_number(fourth: bytes) -> None:
    assert base64.b64encode(MAGIC + fourth).decode().startswith(KPL_MAGIC_BASE64)


def test_user_records_come_out_with_their_own_keys_and_bytes() -> None:
    blob = _blob(load("stream-kinesis-kpl-aggregated"))
    assert is_aggregate(blob)
    assert [(u.partition_key, u.data) for u in deaggregate(blob)] == [(k, d) for k, d, _ in USER_RECORDS]


def test_a_large_aggregate_with_multi_byte_varints_reads_back_whole() -> None:
    blob = base64.b64decode(LARGE["data"])
    users = deaggregate(blob)
    assert [(u.partition_key, u.data) for u in users] == large_records()
    assert len(users) == 200 and max(len(u.data) for u in users) == 300


def test_each_user_record_is_a_stream_event_of_the_shard() -> None:
    payload = load("stream-kinesis-kpl-aggregated")
    seq = payload["Records"][0]["kinesis"]["sequenceNumber"]
    events = parse(payload, cloud="aws").events
    assert [e.sequence for e in events[:3]] == [f"{seq}:0", f"{seq}:1", f"{seq}:2"]  # type: ignore[attr-defined]
    assert [e.key for e in events] == ["sensor-1", "sensor-2", "sensor-1", "s1"]  # type: ignore[attr-defined]
    assert {e.partition for e in events} == {"shardId-000000000000"}  # type: ignore[attr-defined]
    assert events[0].json() == {"temp": 21.5}  # type: ignore[attr-defined]
    assert events[2].data.content == b"\x00\xff\x10\x80"  # type: ignore[attr-defined]
    assert events[0].raw is payload["Records"][0] and len({e.id for e in events}) == 4


def test_a_failed_user_record_fails_its_whole_kinesis_record() -> None:
    payload = load("stream-kinesis-kpl-aggregated")
    seq = payload["Records"][0]["kinesis"]["sequenceNumber"]
    fixture_app.FAIL.add(f"{seq}:1")
    answer = handler(payload, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": seq}]}
    ran = [event.sequence for _, event in fixture_app.RECEIVED]
    assert ran == [f"{seq}:0", f"{seq}:1"]  # nothing after the failure in the shard runs


def test_a_failure_after_the_aggregate_reports_the_later_record() -> None:
    payload = load("stream-kinesis-kpl-aggregated")
    second = payload["Records"][1]["kinesis"]["sequenceNumber"]
    fixture_app.FAIL.add(second)
    assert handler(payload, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": second}]}
    assert len(fixture_app.RECEIVED) == 4


def test_a_digest_mismatch_is_a_plain_record_as_kcl_reads_it() -> None:
    payload = load("stream-kinesis-kpl-aggregated")
    blob = bytearray(_blob(payload))
    blob[-1] ^= 0xFF
    events = parse(_with_blob(payload, bytes(blob)), cloud="aws").events
    assert len(events) == 2
    assert events[0].data.content == bytes(blob)  # type: ignore[attr-defined]
    assert events[0].sequence == payload["Records"][0]["kinesis"]["sequenceNumber"]  # type: ignore[attr-defined]
    assert events[0].key == "sensor-1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "message, problem",
    [
        (b"\x1a\x05\x08\x00\x1a\x09ab", "runs past the end"),  # a record longer than the message
        (b"\x0a\x01k\x1a\x04\x08\x01\x1a\x00", "names partition key 1 of 1"),
        (b"\x1a\x02\x1a\x00", "lacks its partition_key_index"),
        (b"\x0a\x02\xff\xfe", "not UTF-8"),
        (b"\x0b", "wire type 3"),
        (b"\x08" + b"\xff" * 10, "longer than 10 bytes"),
    ],
)
def test_an_aggregate_with_a_good_digest_and_a_bad_protobuf_is_an_error(message: bytes, problem: str) -> None:
    blob = _signed(message)
    assert is_aggregate(blob)
    with pytest.raises(AggregateError, match=problem):
        deaggregate(blob)
    with pytest.raises(EventShapeError) as info:
        parse(_with_blob(load("stream-kinesis-kpl-aggregated"), blob), cloud="aws")
    assert info.value.field == "Records[0].kinesis.data" and "KPL aggregate" in str(info.value)


def test_an_empty_aggregate_has_no_user_records() -> None:
    payload = _with_blob(load("stream-kinesis-kpl-aggregated"), _signed(b"\x0a\x01k"))
    assert [e.key for e in parse(payload, cloud="aws").events] == ["s1"]  # type: ignore[attr-defined]


def test_data_that_only_starts_like_an_aggregate_is_left_alone() -> None:
    assert not is_aggregate(MAGIC + b"\x00" * 16)  # no room for a message
    assert not is_aggregate(b"\xf3\x89\x9a\xc3" + _signed(b"")[4:])  # wrong magic


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_any_signed_bytes_read_or_fail_as_a_bad_aggregate(message: bytes) -> None:
    """Whatever a broken producer signs, the reader answers with records or AggregateError
    (never an IndexError, a UnicodeError or a hang)."""
    try:
        users = deaggregate(_signed(message))
    except AggregateError:
        return
    assert all(isinstance(u.partition_key, str) and isinstance(u.data, bytes) for u in users)
