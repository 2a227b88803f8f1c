"""Kinesis Data Streams records, KPL aggregates unpacked.

A Lambda batch comes from one shard, in order. Lambda checkpoints on the partial batch
response: it retries from the *lowest* reported sequence number, so reporting only the first
failed record is both sufficient and what keeps order (reporting a later one would mark the
records before it done). The dispatcher already skips the records after a failure in the same
shard, for stream handlers are always ordered.

``data`` is base64 in the payload; it is checked at parse time (a malformed record is an
EventShapeError, not a handler crash) and decoded only when read. The shard is the part of
``eventID`` before ``:``; times are ``approximateArrivalTimestamp``, in epoch *seconds*.

A record packed by the Kinesis Producer Library (``_kpl``) becomes one ``StreamRecord`` per user
record: its own partition key (``key``), ``sequence`` = ``<sequenceNumber>:<sub-sequence>``
(KCL's ``ExtendedSequenceNumber`` spelling), ``id`` = ``<eventID>:<sub-sequence>``, and ``raw``
the Kinesis record that carried it. Lambda knows only Kinesis records, so a failed user record
is reported by its Kinesis record's sequence number: the whole aggregate comes back, the user
records before the failed one included (at-least-once, as with KCL after a failover).
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, StreamRecord
from corefn.events.base import check_base64
from corefn.payload import Reader
from corefn_aws._common import PROVIDER, RecordSource, arn_name, epoch_seconds, first_failure, records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn_aws._kpl import UserRecord

#: the base64 text every KPL aggregate's ``data`` starts with (the first 30 bits of
#: ``_kpl.MAGIC``): plain records are told apart without decoding them, and ``_kpl`` is imported
#: only when a record starts so (a function that never meets one never loads it)
KPL_MAGIC_BASE64 = "84maw"


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
            blob = r.base64_bytes(data, f"{at}.kinesis.data") if data.startswith(KPL_MAGIC_BASE64) else None
            if blob is None:  # checked now, decoded when read
                r.convert(data, check_base64, f"{at}.kinesis.data", "base64")
            event_id = r.str(record, "eventID", at=at)
            arrival = kinesis.get("approximateArrivalTimestamp")
            common: dict[str, Any] = {
                "stream": arn_name(r.str(record, "eventSourceARN", at=at), "stream/"),
                "partition": event_id.split(":", 1)[0],
                "time": None
                if arrival is None
                else r.convert(arrival, epoch_seconds, f"{at}.kinesis.approximateArrivalTimestamp", "epoch seconds"),
                "raw": record,
            }
            sequence = r.str(kinesis, "sequenceNumber", at=f"{at}.kinesis")
            key = r.opt_str(kinesis, "partitionKey", at=f"{at}.kinesis")
            users = None if blob is None else _user_records(r, blob, f"{at}.kinesis.data")
            if users is not None:
                events.extend(
                    StreamRecord(
                        sequence=f"{sequence}:{sub}",
                        key=user.partition_key,
                        data=Body(user.data),
                        id=f"{event_id}:{sub}",
                        **common,
                    )
                    for sub, user in enumerate(users)
                )
                continue
            events.append(StreamRecord(sequence=sequence, key=key, data=Body(data, base64=True), id=event_id, **common))
        return events

    def to_response(self, result: DispatchResult) -> Any:
        return first_failure(result, kinesis_sequence)


def _user_records(r: Reader, blob: bytes, where: str) -> list[UserRecord] | None:
    """The user records of an aggregate, ``None`` for a plain record that only looks like one."""
    from corefn_aws._kpl import AggregateError, deaggregate, is_aggregate

    if not is_aggregate(blob):
        return None
    try:
        return deaggregate(blob)
    except AggregateError as exc:
        raise r.error(where, f"is a KPL aggregate that cannot be read ({exc})") from None


def kinesis_sequence(event: Any) -> str:
    """The *Kinesis* sequence number of a record or of a user record (``<seq>:<sub>`` is an
    identifier Lambda does not know: it would retry the whole batch)."""
    return str(event.sequence).partition(":")[0]
