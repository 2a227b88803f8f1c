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

The feed never redelivers (it commits the offsets once the trigger fires), so a stream handler's
failure is settled inside the activation, by the retry policy streams have on every cloud
(:mod:`corefn.policy`): the failed record is tried again in place, in partition order, up to
``max_attempts`` (default 5; the handler's ``backoff`` slept between tries), then written to the
dead-letter topic (``dead_letter``, else ``<stream>-dlq``, with ``corefn-attempt`` /
``corefn-error`` / ``corefn-source`` headers) and the partition goes on with the records that
waited behind it (:func:`settle_stream`). Only a record that could be neither handled nor
dead-lettered fails the activation, by name.

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


def settle_stream(app: Any, ctx: Any, handler: str, result: DispatchResult) -> dict[str, Any]:
    """The answer of a pinned stream (or Cloudant change-feed) action after every failure was
    retried in place and, past its attempts, dead-lettered (see the module docstring; a change
    goes to the dead-letter topic as its corefn JSON form)."""
    import time

    from corefn.dispatch import dispatch
    from corefn.policy import DEFAULT_MAX_ATTEMPTS
    from corefn_openwhisk import queue

    spec = app.handler(handler)
    limit = spec.options.max_attempts or DEFAULT_MAX_ATTEMPTS  # 0 ("until the record expires"): Kafka keeps it, the feed does not
    pause = spec.options.backoff or 0.0
    topic = spec.options.dead_letter or f"{spec.resource}-dlq"
    skipped = sum(1 for o in result.outcomes if o.skipped)
    handled = sum(1 for o in result.outcomes if o.error is None and not o.skipped)
    dead: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    send: Any = None
    for outcome in [o for o in result.outcomes if o.error is not None]:
        record, error = outcome.event, outcome.error
        tries = 0 if type(error).__name__ == "NotRunAfterFailure" else 1
        while error is not None and tries < limit:
            if tries and pause:
                time.sleep(pause)
            again = dispatch(app, [record], ctx, pinned=handler).outcomes[0]
            error, tries = again.error, tries + 1
        if error is None:
            handled += 1
            continue
        source = record.id or ""
        try:
            send = send or queue.PRODUCER[0]()
            value = record.data.content if isinstance(record, StreamRecord) else json.dumps(record.to_dict(), default=str).encode()
            key = record.key.encode() if isinstance(record, StreamRecord) and record.key else None
            headers = [(queue.ATTEMPT_HEADER, str(tries).encode()), (queue.ERROR_HEADER, f"{type(error).__name__}: {error}"[:1000].encode()),
                       (queue.SOURCE_HEADER, source.encode())]  # fmt: skip
            send(topic, value, key, headers)
            dead.append({"id": source, "dead_letter": topic, "attempts": tries})
        except Exception as failure:
            lost.append({"id": source, "handler_error": str(error), "type": type(failure).__name__, "message": str(failure)})
    summary: dict[str, Any] = {"ok": not lost, "events": len(result.outcomes), "handled": handled, "skipped": skipped, "dead_lettered": dead}
    if lost:
        return {"error": {"message": f"{len(lost)} failed record(s) could not be dead-lettered", "lost": lost, **summary}}
    return summary
