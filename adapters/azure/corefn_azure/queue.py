"""Queue Storage and Service Bus messages.

- Queue Storage (``func.QueueMessage``): ``dequeue_count`` is the delivery count from 1, so it is
  ``attempt`` as is. The host base64-decodes message text before the function sees it
  (``host.json`` ``extensions.queues.messageEncoding``, default ``base64``); after
  ``maxDequeueCount`` failed deliveries (default 5, set explicitly by the generated ``host.json``)
  the message moves to ``<queue>-poison``. A failed handler must therefore *raise*.
- Service Bus (``func.ServiceBusMessage``): ``delivery_count`` (from 1) is ``attempt``,
  ``session_id`` the ordering group (FIFO), ``application_properties`` the attributes. A queue's
  message is a :class:`~corefn.events.QueueMessage`; a topic subscription's a
  :class:`~corefn.events.TopicMessage`. Neither the binding object nor the host metadata names the
  entity, so the generated function app (or ``Metadata.corefn`` in JSON) says which; after
  ``MaxDeliveryCount`` (default 10) Service Bus dead-letters the message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from corefn.events import Body, Event, QueueMessage, TopicMessage
from corefn.payload import Reader
from corefn_azure._common import (
    EventShape,
    binding_items,
    binding_object,
    body_of,
    bytes_value,
    int_value,
    str_value,
    time_value,
)
from corefn_azure._envelope import HostShape, envelope_parts, hint, host_parts


def attributes_of(reader: Reader, props: Any, field: str) -> dict[str, str]:
    """Service Bus application properties (str → any) as the JSON form's str → str."""
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise reader.error(field, f"should be an object, got {type(props).__name__}")
    return {str(k): v if isinstance(v, str) else json.dumps(v, default=str) for k, v in props.items()}


def message(
    *,
    topic: str | None,
    queue: str | None,
    subscription: str | None = None,
    id: str | None,
    body: Body,
    attempt: int | None,
    time: datetime | None,
    attributes: dict[str, str] | None = None,
    group: str | None = None,
    raw: Any,
) -> Event:
    """A queue message, or a topic message when a topic is named."""
    common: dict[str, Any] = {
        "id": id, "body": body, "attempt": attempt, "time": time, "attributes": attributes or {}, "group": group, "raw": raw,
    }  # fmt: skip
    if topic is not None:
        return TopicMessage(topic=topic, subscription=subscription, **common)
    return QueueMessage(queue=queue, **common)


# ------------------------------------------------------------------------------ host envelope


class HostQueue(HostShape):
    """Host envelope of a Queue Storage trigger: ``Metadata`` has ``DequeueCount``, ``Id``,
    ``InsertionTime``, ``ExpirationTime``, ``NextVisibleTime``, ``PopReceipt``; ``Data`` the text.
    ``Metadata.corefn.encoding = "base64"`` says the text is still the queue's base64 (a message
    read with the storage SDK rather than decoded by the host)."""

    name: ClassVar[str] = "host-queue"
    kind: ClassVar[str] = "queue"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and "DequeueCount" in parts[1] and "PopReceipt" in parts[1]

    def to_events(self) -> list[Event]:
        r = self.reader
        value, meta = host_parts(r, self.raw)
        if hint(r, meta, "encoding") == "base64":
            problem = "should be base64 text (Metadata.corefn.encoding is base64)"
            if value is not None and not isinstance(value, str):  # a number or object is no base64 text
                raise r.error("Data", problem)
            body = Body(r.base64_bytes(value or "", "Data", problem))
        else:
            body = body_of(value, r, "Data")
        return [
            message(
                topic=None,
                queue=hint(r, meta, "queue"),
                id=r.opt_str(meta, "Id", at="Metadata"),
                body=body,
                attempt=r.opt_int(meta, "DequeueCount", at="Metadata"),
                time=r.time(meta, "InsertionTime", at="Metadata"),
                raw=self.raw,
            )
        ]


class HostServiceBus(HostShape):
    """Host envelope of a Service Bus trigger: ``Metadata`` has ``MessageId``, ``DeliveryCount``,
    ``SessionId``, ``ApplicationProperties`` (``UserProperties`` in older extensions),
    ``EnqueuedTimeUtc``, ``SequenceNumber``."""

    name: ClassVar[str] = "host-servicebus"
    kind: ClassVar[str] = "queue"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and "DeliveryCount" in parts[1] and "MessageId" in parts[1]

    def to_events(self) -> list[Event]:
        r = self.reader
        value, meta = host_parts(r, self.raw)
        props = meta.get("ApplicationProperties", meta.get("UserProperties"))
        return [
            message(
                topic=hint(r, meta, "topic"),
                queue=hint(r, meta, "queue"),
                subscription=hint(r, meta, "subscription"),
                id=r.str(meta, "MessageId", at="Metadata"),
                body=body_of(value, r, "Data"),
                attempt=r.opt_int(meta, "DeliveryCount", at="Metadata"),
                time=r.time(meta, "EnqueuedTimeUtc", at="Metadata"),
                attributes=attributes_of(r, props, "Metadata.ApplicationProperties"),
                group=r.opt_str(meta, "SessionId", at="Metadata"),
                raw=self.raw,
            )
        ]


# --------------------------------------------------------------------------- binding objects


class QueueMessageObject(EventShape):
    """``func.QueueMessage`` from ``@app.queue_trigger`` (the body is already base64-decoded). A
    failure is raised so the host counts a failed delivery (and poisons it after
    maxDequeueCount)."""

    name: ClassVar[str] = "queue-message"
    kind: ClassVar[str] = "queue"
    binding: ClassVar[str] = "QueueMessage"

    def to_events(self) -> list[Event]:
        msg = binding_object(self.reader, self.raw, self.binding)
        return [
            message(
                topic=None,
                queue=None,  # the generated function app fills in the declared queue
                id=str_value(self.reader, msg.id, "id"),
                body=bytes_value(self.reader, msg.get_body(), "body"),
                attempt=int_value(self.reader, msg.dequeue_count, "dequeue_count"),
                time=time_value(self.reader, msg.insertion_time, "insertion_time"),
                raw=msg,
            )
        ]


class ServiceBusObject(EventShape):
    """``func.ServiceBusMessage`` (or a list of them with ``cardinality="many"``). A failure is
    raised so Service Bus abandons the message (redelivered until MaxDeliveryCount, then
    dead-lettered); with ``autoComplete`` the host completes it only on success."""

    name: ClassVar[str] = "servicebus-message"
    kind: ClassVar[str] = "queue"
    binding: ClassVar[str] = "ServiceBusMessage"
    many: ClassVar[bool] = True

    def to_events(self) -> list[Event]:
        events = []
        for at, msg in binding_items(self.reader, self.raw, "ServiceBusMessage"):
            props = getattr(msg, "application_properties", None) or getattr(msg, "user_properties", None)
            events.append(
                message(
                    topic=None,
                    queue=None,  # the generated function app says whether this is a queue or topic
                    id=str_value(self.reader, msg.message_id, f"{at}message_id"),
                    body=bytes_value(self.reader, msg.get_body(), f"{at}body"),
                    attempt=int_value(self.reader, msg.delivery_count, f"{at}delivery_count"),
                    time=time_value(self.reader, msg.enqueued_time_utc, f"{at}enqueued_time_utc"),
                    attributes=attributes_of(self.reader, props, f"{at}application_properties"),
                    group=str_value(self.reader, msg.session_id, f"{at}session_id"),
                    raw=msg,
                )
            )
        return events
