"""Writes ``tests/events/aws/stream-kinesis-kpl-aggregated.json``, a Lambda Kinesis event whose
first record is a KPL aggregate, and ``tests/aws/kpl_large.json``, one aggregate of 200 user
records (multi-byte varints: indexes past 127, data past 127 bytes); both produced by AWS's own
aggregator, not by corefn, so corefn's reader is checked against the format's producer.

Run by hand, never by the suite (``aws-kinesis-agg`` is not a corefn dependency)::

    python -m venv /tmp/kpl && /tmp/kpl/bin/pip install aws-kinesis-agg==1.2.3 six
    /tmp/kpl/bin/python tests/aws/make_kpl_fixture.py

The envelope is aws-lambda-go's ``events/testdata/kinesis-event.json`` (see SOURCES.md); only the
first record's ``data`` and ``partitionKey`` are replaced by what ``RecordAggregator`` returns
(``AggRecord.get_contents()``: the aggregate's partition key and bytes), the second record stays a
plain one, so one batch mixes both kinds as a KPL producer's stream does.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "events" / "aws" / "stream-kinesis-kpl-aggregated.json"
LARGE = HERE / "kpl_large.json"

#: the user records: (partition key, data, explicit hash key)
USER_RECORDS = [
    ("sensor-1", b'{"temp": 21.5}', None),
    ("sensor-2", b'{"temp": 19.0}', "170141183460469231731687303715884105728"),
    ("sensor-1", b"\x00\xff\x10\x80", None),
]

ENVELOPE = {
    "Records": [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "s1",
                "sequenceNumber": "49568167373333333333333333333333333333333333333333333333",
                "data": "SGVsbG8gV29ybGQ=",
                "approximateArrivalTimestamp": 1480641523.477,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000000:49568167373333333333333333333333333333333333333333333333",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/LambdaRole",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/simple-stream",
        },
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "s1",
                "sequenceNumber": "49568167373333333334444444444444444444444444444444444444",
                "data": "SGVsbG8gV29ybGQ=",
                "approximateArrivalTimestamp": 1480841523.477,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000000:49568167373333333334444444444444444444444444444444444444",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/LambdaRole",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/simple-stream",
        },
    ]
}


def large_records() -> list[tuple[str, bytes]]:
    """200 user records over 150 partition keys, every 7th one 300 bytes long (the test that
    reads ``kpl_large.json`` rebuilds this list to compare)."""
    out = []
    for i in range(200):
        size = 300 if i % 7 == 0 else 1 + i % 40
        out.append((f"device-{i % 150:03d}", bytes((i + j) % 256 for j in range(size))))
    return out


def aggregate(records: list[tuple[str, bytes, str | None]]) -> tuple[str, bytes]:
    from aws_kinesis_agg.aggregator import RecordAggregator  # type: ignore[import-not-found]

    aggregator = RecordAggregator()
    for key, data, hash_key in records:
        if aggregator.add_user_record(key, data, hash_key) is not None:
            raise SystemExit("the aggregator flushed early: keep the records small")
    partition_key, _hash_key, blob = aggregator.clear_and_get().get_contents()
    return partition_key, blob


def main() -> int:
    from aws_kinesis_agg.deaggregator import deaggregate_records  # type: ignore[import-not-found]

    partition_key, blob = aggregate(USER_RECORDS)
    event = json.loads(json.dumps(ENVELOPE))
    first = event["Records"][0]["kinesis"]
    first["partitionKey"] = partition_key
    first["data"] = base64.b64encode(blob).decode()
    # AWS's deaggregator must read back what its aggregator wrote: the fixture is sound.
    back = deaggregate_records(json.loads(json.dumps(event["Records"])))
    got = [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in back]
    assert got[:3] == [(k, d) for k, d, _ in USER_RECORDS] and len(got) == 4, got
    TARGET.write_text(json.dumps(event, indent=2) + "\n")
    print(f"wrote {TARGET} ({len(blob)} aggregated bytes)")

    records = large_records()
    _key, big = aggregate([(k, d, None) for k, d in records])
    wrapped = [{"kinesis": {"data": base64.b64encode(big).decode(), "sequenceNumber": "1", "kinesisSchemaVersion": "1.0",
                            "approximateArrivalTimestamp": 0}}]
    back = deaggregate_records(wrapped)
    assert [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in back] == records
    note = "aws-kinesis-agg 1.2.3 RecordAggregator over make_kpl_fixture.large_records()"
    LARGE.write_text(json.dumps({"method": note, "data": base64.b64encode(big).decode()}, indent=1) + "\n")
    print(f"wrote {LARGE} ({len(big)} aggregated bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
