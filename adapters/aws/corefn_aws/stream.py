"""Kinesis Data Streams records.

A Lambda batch comes from one shard, in order. Lambda checkpoints on the partial batch
response: it retries from the *lowest* reported sequence number, so reporting only the first
failed record is both sufficient and what keeps order (reporting a later one would mark the
records before it done). The dispatcher already skips the records after a failure in the same
shard, for stream handlers are always ordered.

``data`` is base64 in the payload; it is checked at parse time (a malformed record is an
EventShapeError, not a handler crash) and decoded only when read. The shard is the part of
``eventID`` before ``:``; times are ``approximateArrivalTimestamp``, in epoch *seconds*.
KPL-aggregated records are passed as they are (deaggregation is the producer library's job).
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, StreamRecord
from corefn.events.base import check_base64
from corefn.payload import Reader
from corefn_aws._common import PROVIDER, RecordSource, arn_name, epoch_seconds, first_failure, records


class Kinesis(RecordSource):
    name: ClassVar[str] = "kinesis"
    kind: ClassVar[str] = "stream"
    signature: ClassVar[tuple[str, str]] = ("eventSource", "aws:kinesis")
    _r: ClassVar[Reader] = Reader(PROVIDER, "kinesis")

    def to_events(self) -> list[Event]:
        r = self._r
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            at = f"Records[{i}]"
            kinesis = r.dict(record, "kinesis", at=at)
            data = r.str(kinesis, "data", at=f"{at}.kinesis")
            r.convert(data, check_base64, f"{at}.kinesis.data", "base64")
            event_id = r.str(record, "eventID", at=at)
            arrival = kinesis.get("approximateArrivalTimestamp")
            events.append(
                StreamRecord(
                    stream=arn_name(r.str(record, "eventSourceARN", at=at), "stream/"),
                    partition=event_id.split(":", 1)[0],
                    sequence=r.str(kinesis, "sequenceNumber", at=f"{at}.kinesis"),
                    key=r.opt_str(kinesis, "partitionKey", at=f"{at}.kinesis"),
                    data=Body(data, base64=True),
                    time=None
                    if arrival is None
                    else r.convert(arrival, epoch_seconds, f"{at}.kinesis.approximateArrivalTimestamp", "epoch seconds"),
                    id=event_id,
                    raw=record,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> Any:
        return first_failure(result, "sequence")
