"""Messages from queues (SQS, Queue Storage, Service Bus queues) and topics (SNS, Service Bus
subscriptions, Pub/Sub). The two differ only in what names their source.

``attempt`` counts deliveries from 1 (SQS ``ApproximateReceiveCount``, Azure ``dequeue_count``,
Pub/Sub ``deliveryAttempt``) and is ``None`` when the provider does not say. ``group`` is the
ordering unit: SQS FIFO message group, Service Bus session, Pub/Sub ordering key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from corefn.events.base import Body, Event, body_fields, format_time


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(Event):
    body: Body = field(default_factory=Body)
    attributes: Mapping[str, str] = field(default_factory=dict)
    attempt: int | None = None
    time: datetime | None = None
    group: str | None = None
    dedup_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.body, Body):
            object.__setattr__(self, "body", Body.of(self.body))

    @property
    def text(self) -> str:
        return self.body.text

    def json(self) -> Any:
        return self.body.json()

    def _source(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, **self._source(), "id": self.id}
        out.update(body_fields(self.body, "body"))
        out["attributes"] = dict(self.attributes)
        out["attempt"] = self.attempt
        if self.time is not None:
            out["time"] = format_time(self.time)
        if self.group is not None:
            out["group"] = self.group
        if self.dedup_id is not None:
            out["dedup_id"] = self.dedup_id
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMessage(Message):
    kind: ClassVar[str] = "queue"
    queue: str | None = None

    def _source(self) -> dict[str, Any]:
        return {"queue": self.queue}


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicMessage(Message):
    kind: ClassVar[str] = "topic"
    topic: str | None = None
    subscription: str | None = None

    def _source(self) -> dict[str, Any]:
        out: dict[str, Any] = {"topic": self.topic}
        if self.subscription is not None:
            out["subscription"] = self.subscription
        return out
