"""Records from ordered streams (Kinesis, Event Hubs, Kafka / Event Streams, Pub/Sub with ordering
keys). Order holds per ``partition``; ``sequence`` is the position within it, as a string because
Kinesis sequence numbers exceed 64 bits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from corefn.events.base import Body, Event, body_fields, format_time


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamRecord(Event):
    kind: ClassVar[str] = "stream"
    stream: str | None
    partition: str
    sequence: str
    key: str | None = None
    data: Body = field(default_factory=Body)
    time: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, Body):
            object.__setattr__(self, "data", Body.of(self.data))

    @property
    def text(self) -> str:
        return self.data.text

    def json(self) -> Any:
        return self.data.json()

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
