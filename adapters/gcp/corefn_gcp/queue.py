"""Pub/Sub messages, in each envelope Google delivers them: the ``messagePublished`` CloudEvent
(2nd gen / Eventarc), the legacy background events ``google.pubsub.topic.publish`` and
``providers/cloud.pubsub/eventTypes/topic.publish`` (1st gen), and the body of a push
subscription (``{"message": ..., "subscription": ..., "deliveryAttempt": n}``).

Each envelope class unwraps its payload into one :class:`Delivery`; the storage-notification
and scheduler shapes reuse that unwrapping to recognise *their* messages first (see
:func:`find_delivery`). What the JSON form calls the message's kind is ``topic`` (the contract:
"topic = ... Pub/Sub, unless declared as a stream"); the runtime re-reads a message as a queue
message or a stream record when the app declared the topic that way (:func:`as_queue_message`
here, :func:`corefn_gcp.stream.as_stream_record`).

Pub/Sub rules this module relies on:

- ``message.data`` is base64 and may be absent (a message may carry only attributes).
- Push bodies repeat ``messageId`` / ``publishTime`` in snake case (``message_id``,
  ``publish_time``); either is accepted.
- ``deliveryAttempt`` is present only when the subscription has a dead-letter policy; without
  it ``attempt`` is ``None`` (the contract: null when the provider does not say).
- A push body does not name the topic, only the subscription: ``topic`` is ``None`` there and
  the runtime fills in the topic the deployed function was declared for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from corefn.events import Body, Event, QueueMessage, TopicMessage
from corefn.events.base import check_base64
from corefn.payload import Reader
from corefn_gcp._envelope import (
    EventShape,
    cloud_event_type,
    legacy_type,
    read_legacy,
    segment_after,
    short_name,
    string_map,
)

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
#: the background event types that carry a Pub/Sub message (the first is 1st gen's, the second
#: the older GCF v1beta2 name)
LEGACY_PUBLISHED = frozenset({"google.pubsub.topic.publish", "providers/cloud.pubsub/eventTypes/topic.publish"})


class Delivery:
    """One Pub/Sub message with what its envelope says about it: ``at`` is the message's path
    in the payload (for errors), ``fallback_id`` / ``fallback_time`` the envelope's event id and
    time, used when the message carries none."""

    __slots__ = ("message", "at", "topic", "subscription", "attempt", "fallback_id", "fallback_time")

    def __init__(
        self,
        *,
        message: dict[str, Any],
        at: str,
        topic: str | None,
        subscription: str | None,
        attempt: int | None,
        fallback_id: str | None,
        fallback_time: datetime | None,
    ) -> None:
        self.message = message
        self.at = at
        self.topic = topic
        self.subscription = subscription
        self.attempt = attempt
        self.fallback_id = fallback_id
        self.fallback_time = fallback_time

    def attributes(self, r: Reader) -> dict[str, str]:
        return string_map(r, r.opt_dict(self.message, "attributes", at=self.at), f"{self.at}.attributes")

    def body(self, r: Reader) -> Body:
        data = r.opt_str(self.message, "data", at=self.at)
        if data is None:
            return Body(b"")
        r.convert(data, check_base64, f"{self.at}.data", "base64")
        return Body(data, base64=True)

    def message_id(self, r: Reader) -> str | None:
        return r.opt_str(self.message, "messageId", at=self.at) or r.opt_str(self.message, "message_id", at=self.at) or self.fallback_id

    def time(self, r: Reader) -> datetime | None:
        found = r.time(self.message, "publishTime", at=self.at) or r.time(self.message, "publish_time", at=self.at)
        return found or self.fallback_time

    def ordering_key(self, r: Reader) -> str | None:
        return r.opt_str(self.message, "orderingKey", at=self.at) or r.opt_str(self.message, "ordering_key", at=self.at) or None


def to_topic_message(r: Reader, delivery: Delivery, raw: Any) -> TopicMessage:
    return TopicMessage(
        topic=delivery.topic,
        subscription=delivery.subscription,
        id=delivery.message_id(r),
        body=delivery.body(r),
        attributes=delivery.attributes(r),
        attempt=delivery.attempt,
        time=delivery.time(r),
        group=delivery.ordering_key(r),
        raw=raw,
    )


def as_queue_message(message: TopicMessage) -> QueueMessage:
    """The same message for a handler declared with ``@app.queue``: on GCP a queue is a Pub/Sub
    topic with one subscription (Google has no separate queue service for functions)."""
    return QueueMessage(
        queue=message.topic,
        id=message.id,
        body=message.body,
        attributes=message.attributes,
        attempt=message.attempt,
        time=message.time,
        group=message.group,
        raw=message.raw,
    )


# --------------------------------------------------------------------------------- envelopes


class _PubSubShape(EventShape):
    """What the three envelopes share: one message in, a raise on failure out (so that Eventarc
    or the push subscription redelivers it, and dead-letters it after the configured attempts)."""

    kind: ClassVar[str] = "topic"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        raise NotImplementedError

    def delivery(self) -> Delivery:
        raise NotImplementedError

    def to_events(self) -> list[Event]:
        return [to_topic_message(self.reader, self.delivery(), self.raw)]


class PubSubCloudEvent(_PubSubShape):
    """``google.cloud.pubsub.topic.v1.messagePublished``: data is ``{"message", "subscription"}``,
    the topic is in ``source`` (``//pubsub.googleapis.com/projects/P/topics/T``)."""

    name: ClassVar[str] = "pubsub-cloudevent"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return cloud_event_type(raw) == PUBLISHED

    def delivery(self) -> Delivery:
        r, raw = self.reader, self.raw
        data = r.dict(raw, "data")
        return Delivery(
            message=r.dict(data, "message", at="data"),
            at="data.message",
            topic=segment_after(r, r.str(raw, "source"), "topics", "source"),
            subscription=short_name(r.opt_str(data, "subscription", at="data")),
            attempt=r.opt_int(data, "deliveryAttempt", at="data"),
            fallback_id=r.opt_str(raw, "id"),
            fallback_time=r.time(raw, "time"),
        )


class PubSubLegacy(_PubSubShape):
    """1st gen background event: ``data`` *is* the PubsubMessage, the topic is the resource."""

    name: ClassVar[str] = "pubsub-legacy"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return legacy_type(raw) in LEGACY_PUBLISHED

    def delivery(self) -> Delivery:
        r = self.reader
        legacy = read_legacy(r, self.raw)
        if not isinstance(legacy.data, dict):
            raise r.error("data", "should be a Pub/Sub message object")
        return Delivery(
            message=legacy.data,
            at="data",
            topic=segment_after(r, legacy.resource, "topics", f"{legacy.at}.resource".lstrip(".")),
            subscription=None,
            attempt=None,
            fallback_id=legacy.event_id,
            fallback_time=legacy.time,
        )


class PubSubPush(_PubSubShape):
    """A push subscription's POST body. Pub/Sub counts ``deliveryAttempt`` from 1."""

    name: ClassVar[str] = "pubsub-push"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return (
            isinstance(raw, dict)
            and isinstance(raw.get("message"), dict)
            and isinstance(raw.get("subscription"), str)
            and "specversion" not in raw
            and "context" not in raw
        )

    def delivery(self) -> Delivery:
        r, raw = self.reader, self.raw
        return Delivery(
            message=r.dict(raw, "message"),
            at="message",
            topic=None,
            subscription=short_name(r.str(raw, "subscription")),
            attempt=r.opt_int(raw, "deliveryAttempt"),
            fallback_id=None,
            fallback_time=None,
        )


ENVELOPES: tuple[type[_PubSubShape], ...] = (PubSubCloudEvent, PubSubLegacy, PubSubPush)


def find_delivery(raw: Any) -> type[_PubSubShape] | None:
    """The envelope class that carries ``raw``, if any. Never raises."""
    return next((e for e in ENVELOPES if e.matches(raw)), None)


def read_delivery(r: Reader, raw: Any) -> Delivery:
    """The message of a shape that rides on Pub/Sub (storage notification, scheduler tick), read
    by its envelope (whose own Reader names the envelope's fields). ``r`` only reports a payload
    that is no Pub/Sub one at all, which happens only when the shape is named with ``--shape``."""
    envelope = find_delivery(raw)
    if envelope is None:
        raise r.error("message", "is missing (not a Pub/Sub payload)")
    return envelope(raw).delivery()


def peek_attributes(raw: Any) -> dict[str, Any]:
    """The message attributes of a Pub/Sub payload without validating anything, for the cheap
    ``matches`` of shapes that ride on Pub/Sub (storage notifications, scheduler ticks)."""
    envelope = find_delivery(raw)
    if envelope is None:
        return {}
    if envelope is PubSubCloudEvent:
        data = raw.get("data")
        message = data.get("message") if isinstance(data, dict) else None
    elif envelope is PubSubLegacy:
        message = raw.get("data")
    else:
        message = raw.get("message")
    attributes = message.get("attributes") if isinstance(message, dict) else None
    return attributes if isinstance(attributes, dict) else {}


def with_topic(message: TopicMessage, topic: str) -> TopicMessage:
    result: TopicMessage = message.replace(topic=topic)
    return result
