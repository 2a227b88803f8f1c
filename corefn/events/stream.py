"""Records from ordered streams (Kinesis, Event Hubs, Kafka / Event Streams, Pub/Sub with ordering
keys). Order holds per ``partition``; ``sequence`` is the position within it, as a string because
Kinesis sequence numbers exceed 64 bits."""

from __future__ import annotations

from datetime import datetime

from corefn._record import _set
from corefn.events.base import Body, Event, body_fields, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class StreamRecord(Event):
    __slots__ = ("stream", "partition", "sequence", "key", "data", "time")
    kind: ClassVar[str] = "stream"
    stream: str | None
    partition: str
    sequence: str
    key: str | None
    data: Body
    time: datetime | None

    def __init__(
        self,
        *,
        stream: str | None,
        partition: str,
        sequence: str,
        key: str | None = None,
        data: Body | str | bytes | None = None,
        time: datetime | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "stream", stream)
        _set(self, "partition", partition)
        _set(self, "sequence", sequence)
        _set(self, "key", key)
        _set(self, "data", data if isinstance(data, Body) else Body.of(data))
        _set(self, "time", time)
        _set(self, "id", id)
        _set(self, "raw", raw)

    @property
    def text(self) -> str:
        return self.data.text

    def json(self) -> Any:
        return self.data.json()

    @property
    def identity(self) -> str:
        """The id, else the position: a sequence number is unique within its partition."""
        return self.id or f"{self.stream}/{self.partition}/{self.sequence}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "stream",
            "stream": self.stream,
            "partition": self.partition,
            "sequence": self.sequence,
            "key": self.key,
        }
        out.update(body_fields(self.data, "data"))
        out["time"] = format_time(self.time)
        if self.id is not None:
            out["id"] = self.id
        return out
