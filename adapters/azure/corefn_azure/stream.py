"""Event Hubs records, one at a time or as a batch (``cardinality="many"``).

Order holds per partition; ``sequence`` is the record's sequence number in it. The partition id
and hub name come from the host's ``PartitionContext`` trigger metadata (``EventHubName``,
``PartitionId``), which ``func.EventHubEvent.metadata`` exposes; per record the host gives
``SequenceNumber``, ``Offset``, ``EnqueuedTimeUtc`` and ``PartitionKey`` (in
``SystemPropertiesArray`` for a batch). Event Hubs has no per-message retry: a failed batch is
raised so the host does not checkpoint past it (with a retry policy in ``host.json``, it re-runs).
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.events import Event, StreamRecord
from corefn.payload import Reader
from corefn_azure._common import (
    EventShape,
    binding_items,
    body_of,
    bytes_value,
    decode_json_text,
    int_value,
    str_value,
    time_value,
)
from corefn_azure._envelope import HostShape, envelope_parts, host_parts

HUB_KEYS = ("PartitionContext", "SystemPropertiesArray", "SystemProperties")


def _partition(reader: Reader, meta: Any, at: str) -> tuple[str | None, str]:
    context = reader.dict(meta, "PartitionContext", at=at)
    where = f"{at}.PartitionContext" if at else "PartitionContext"
    return reader.opt_str(context, "EventHubName", at=where), reader.str(context, "PartitionId", at=where)


def _sequence(reader: Reader, props: dict[str, Any], at: str) -> str:
    return str(reader.int(props, "SequenceNumber", at=at))


class HostEventHub(HostShape):
    """Host envelope of an Event Hubs trigger: ``Data`` is one body, or a list of bodies with
    ``Metadata.SystemPropertiesArray`` describing each; ``Metadata.PartitionContext`` names the hub
    and partition."""

    name: ClassVar[str] = "host-eventhub"
    kind: ClassVar[str] = "stream"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and any(key in parts[1] for key in HUB_KEYS)

    def to_events(self) -> list[Event]:
        r = self.reader
        value, meta = host_parts(r, self.raw)
        hub, partition = _partition(r, meta, "Metadata")
        if "SystemPropertiesArray" in meta:
            bodies = decode_json_text(value)
            props_list = r.list(meta, "SystemPropertiesArray", at="Metadata")
            if not isinstance(bodies, list) or len(bodies) != len(props_list):
                raise r.error("Data", "should be a list with one body per Metadata.SystemPropertiesArray entry")
            pairs = [(body, props, f"Metadata.SystemPropertiesArray[{i}]") for i, (body, props) in enumerate(zip(bodies, props_list, strict=True))]
        else:
            pairs = [(value, meta, "Metadata")]
        events: list[Event] = []
        for body, props, at in pairs:
            if not isinstance(props, dict):
                raise r.error(at, "should be an object")
            events.append(
                StreamRecord(
                    stream=hub,
                    partition=partition,
                    sequence=_sequence(r, props, at),
                    key=r.opt_str(props, "PartitionKey", at=at),
                    data=body_of(body, r, "Data"),
                    time=r.time(props, "EnqueuedTimeUtc", at=at),
                    raw=self.raw,
                )
            )
        return events


class EventHubObject(EventShape):
    """``func.EventHubEvent`` (``cardinality="one"``) or a list of them (``"many"``)."""

    name: ClassVar[str] = "eventhub-event"
    kind: ClassVar[str] = "stream"
    binding: ClassVar[str] = "EventHubEvent"
    many: ClassVar[bool] = True

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for at, event in binding_items(r, self.raw, "EventHubEvent"):
            meta = event.metadata
            if not isinstance(meta, dict):
                raise r.error(f"{at}metadata", "is missing (the host's PartitionContext names the partition)")
            hub, partition = _partition(r, meta, f"{at}metadata")
            sequence = int_value(r, event.sequence_number, f"{at}sequence_number")
            if sequence is None:
                raise r.error(f"{at}sequence_number")
            events.append(
                StreamRecord(
                    stream=hub,
                    partition=partition,
                    sequence=str(sequence),
                    key=str_value(r, event.partition_key, f"{at}partition_key"),
                    data=bytes_value(r, event.get_body(), f"{at}body"),
                    time=time_value(r, event.enqueued_time, f"{at}enqueued_time"),
                    raw=event,
                )
            )
        return events
