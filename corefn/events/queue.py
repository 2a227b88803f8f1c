"""Messages from queues (SQS, Queue Storage, Service Bus queues) and topics (SNS, Service Bus
subscriptions, Pub/Sub). The two differ only in what names their source.

``attempt`` counts deliveries from 1 (SQS ``ApproximateReceiveCount``, Azure ``dequeue_count``,
Pub/Sub ``deliveryAttempt``) and is ``None`` when the provider does not say. ``group`` is the
ordering unit: SQS FIFO message group, Service Bus session, Pub/Sub ordering key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from corefn._record import _set
from corefn.events.base import Body, Event, body_fields, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

_NO_ATTRIBUTES: Mapping[str, str] = {}


class Message(Event):
    """What queue messages and topic messages share."""

    __slots__ = ("body", "attributes", "attempt", "time", "group", "dedup_id")
    body: Body
    attributes: Mapping[str, str]
    attempt: int | None
    time: datetime | None
    group: str | None
    dedup_id: str | None

    def _init(
        self,
        body: Body | str | bytes | None,
        attributes: Mapping[str, str],
        attempt: int | None,
        time: datetime | None,
        group: str | None,
        dedup_id: str | None,
        id: str | None,
        raw: Any,
    ) -> None:
        _set(self, "body", body if isinstance(body, Body) else Body.of(body))
        _set(self, "attributes", attributes)
        _set(self, "attempt", attempt)
        _set(self, "time", time)
        _set(self, "group", group)
        _set(self, "dedup_id", dedup_id)
        _set(self, "id", id)
        _set(self, "raw", raw)

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


class QueueMessage(Message):
    __slots__ = ("queue",)
    kind: ClassVar[str] = "queue"
    queue: str | None

    def __init__(
        self,
        *,
        queue: str | None = None,
        body: Body | str | bytes | None = None,
        attributes: Mapping[str, str] = _NO_ATTRIBUTES,
        attempt: int | None = None,
        time: datetime | None = None,
        group: str | None = None,
        dedup_id: str | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "queue", queue)
        self._init(body, attributes, attempt, time, group, dedup_id, id, raw)

    def _source(self) -> dict[str, Any]:
        return {"queue": self.queue}


class TopicMessage(Message):
    __slots__ = ("topic", "subscription")
    kind: ClassVar[str] = "topic"
    topic: str | None
    subscription: str | None

    def __init__(
        self,
        *,
        topic: str | None = None,
        subscription: str | None = None,
        body: Body | str | bytes | None = None,
        attributes: Mapping[str, str] = _NO_ATTRIBUTES,
        attempt: int | None = None,
        time: datetime | None = None,
        group: str | None = None,
        dedup_id: str | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "topic", topic)
        _set(self, "subscription", subscription)
        self._init(body, attributes, attempt, time, group, dedup_id, id, raw)

    def _source(self) -> dict[str, Any]:
        out: dict[str, Any] = {"topic": self.topic}
        if self.subscription is not None:
            out["subscription"] = self.subscription
        return out
