"""Kafka records from IBM Event Streams (formerly Message Hub): the
``/whisk.system/messaging/messageHubFeed`` and ``kafkaFeed`` feeds.

The trigger payload (apache/openwhisk-package-kafka README, "Listening for messages") is
``{"messages": [{"topic", "partition", "offset", "key", "value"}, ...]}``, batched: one firing may
carry many records, in offset order. How ``key`` and ``value`` look depends on the trigger's
feed parameters, which the payload does not repeat:

- ``isJSONData``: the provider parsed ``value`` as JSON (best effort), so it may be an object,
  a list, a number... corefn gives it back as compact JSON text;
- ``isBinaryValue`` / ``isBinaryKey``: the value / key are base64 strings.

A base64 string cannot be told from text by looking at it, so the flags must travel with the
payload: corefn's generated manifest creates every Kafka trigger with ``isBinaryKey`` and
``isBinaryValue`` true (any bytes survive) and binds the same two names as default parameters
of the action, so they arrive next to ``messages``. Without them (a trigger made by hand), keys
and values are taken as the text they are. A binary key that is not UTF-8 stays base64.

Signature: a non-empty ``messages`` list whose first item has ``topic``, ``partition`` and
``offset``. The feed carries no record time: ``time`` is ``null``.

The same feed serves queue handlers: the adapter's bind step turns each record into a
:class:`~corefn.events.QueueMessage` for them (:mod:`corefn_openwhisk.queue`), and the answer then
republishes or dead-letters every failed message instead of only recording the failure.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, QueueMessage, StreamRecord
from corefn.events.base import check_base64
from corefn_openwhisk._common import TriggerShape

SIGNATURE = frozenset({"topic", "partition", "offset"})


class KafkaMessages(TriggerShape):
    """``messages[0]`` with topic/partition/offset: a batch from the Event Streams feed."""

    name: ClassVar[str] = "kafka"
    kind: ClassVar[str] = "stream"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not isinstance(raw, dict):
            return False
        messages = raw.get("messages")
        return isinstance(messages, list) and bool(messages) and isinstance(messages[0], dict) and SIGNATURE <= messages[0].keys()

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        binary_key = r.get(raw, "isBinaryKey", bool, default=False)
        binary_value = r.get(raw, "isBinaryValue", bool, default=False)
        events: list[Event] = []
        for i, message in enumerate(r.list(raw, "messages")):
            at = f"messages[{i}]"
            if not isinstance(message, dict):
                raise r.error(at, f"should be an object, got {type(message).__name__}")
            topic = r.str(message, "topic", at=at)
            partition = r.get(message, "partition", int, at=at)
            offset = r.get(message, "offset", int, at=at)
            events.append(
                StreamRecord(
                    stream=topic,
                    partition=str(partition),
                    sequence=str(offset),
                    key=self._key(message.get("key"), binary_key, at),
                    data=self._value(message.get("value"), binary_value, at),
                    time=None,
                    id=f"{topic}/{partition}/{offset}",
                    raw=message,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> dict[str, Any]:
        if any(isinstance(o.event, QueueMessage) for o in result.outcomes):
            from corefn_openwhisk.queue import settle

            return settle(result)
        return super().to_response(result)

    def _key(self, key: Any, binary: bool, at: str) -> str | None:
        if key is None:
            return None
        if not isinstance(key, str):
            raise self.reader.error(f"{at}.key", f"should be a string, got {type(key).__name__}")
        if not binary:
            return key
        self.reader.convert(key, check_base64, f"{at}.key", "base64 (isBinaryKey is true)")
        try:
            return base64.b64decode(key).decode("utf-8")
        except UnicodeDecodeError:
            return key  # not text: keep the base64 form, the only lossless string

    def _value(self, value: Any, binary: bool, at: str) -> Body:
        if value is None:
            return Body()
        if isinstance(value, str):
            if binary:
                self.reader.convert(value, check_base64, f"{at}.value", "base64 (isBinaryValue is true)")
                return Body(value, base64=True)
            return Body(value)
        return Body(json.dumps(value, separators=(",", ":"), ensure_ascii=False))  # parsed by isJSONData
