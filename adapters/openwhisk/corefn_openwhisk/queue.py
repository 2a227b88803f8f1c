"""Queue handlers on Apache OpenWhisk: a Kafka topic read through the
``/whisk.system/messaging/messageHubFeed`` feed, with corefn counting the attempts itself.

OpenWhisk has no queue service of its own, and the Kafka feed never redelivers: its provider
commits the records' offsets as soon as the trigger is *fired* (accepted), whatever the action
then does (``provider/consumer.py`` ``__fireTrigger`` in apache/openwhisk-package-kafka). So a
queue handler's failure would lose the message. corefn keeps the queue's promise instead:

- a failed message is **republished** to its own topic with its attempt number raised by one,
  until the handler's ``max_attempts`` (default 5; ``0`` = without end); a message its group's
  earlier failure kept from running is republished with its attempt unchanged, behind it;
- then it goes to the **dead-letter topic** (the handler's ``dead_letter``, else
  ``<queue>-dlq``) with the failure's type and message in record headers;
- only when a republish itself fails does the activation fail, naming every message that was
  neither handled nor passed on (the activation record is then the only trace: the feed has
  moved on).

The attempt travels *inside* the record: the feed hands an action ``topic``, ``partition``,
``offset``, ``key`` and ``value`` only — no record headers (``__getMessagePayload`` in the same
file). A republished value is ``corefn-retry/1 {json header}\\n`` followed by the original bytes;
:func:`unwrap` reads it back, and the header also goes out as the Kafka record header
``corefn-attempt`` for any other reader. The key is kept (the message group), so a group stays on
one partition; a retried message goes to the end of its partition (no backoff: Kafka has no
delayed delivery, and a sleeping action is billed).

The producer reads ``KAFKA_BROKERS`` (comma-separated ``host:port``) and the credentials
:func:`corefn.sinks.kafka.producer_config` reads (``KAFKA_API_KEY``, or
``KAFKA_SASL_USERNAME`` / ``KAFKA_SASL_PASSWORD``), bound by the generated manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.events import QueueMessage, StreamRecord
from corefn.policy import DEFAULT_MAX_ATTEMPTS

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult, Outcome
    from corefn.specs import HandlerSpec

MAGIC = b"corefn-retry/1 "
ATTEMPT_HEADER = "corefn-attempt"
ERROR_HEADER = "corefn-error"
SOURCE_HEADER = "corefn-source"
BROKERS_ENV = "KAFKA_BROKERS"


def wrap(value: bytes, attempt: int, source: str) -> bytes:
    """``value`` marked as attempt ``attempt`` of the record first read at ``source``."""
    header = json.dumps({"attempt": attempt, "source": source}, separators=(",", ":")).encode()
    return MAGIC + header + b"\n" + value


def unwrap(value: bytes) -> tuple[bytes, int, str | None]:
    """(the original bytes, the attempt this delivery is, where the record was first read); a
    record corefn never republished is attempt 1. A damaged marker is read as the plain value."""
    if not value.startswith(MAGIC):
        return value, 1, None
    header, sep, rest = value[len(MAGIC) :].partition(b"\n")
    try:
        meta = json.loads(header) if sep else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("attempt"), int) or meta["attempt"] < 1:
        return value, 1, None
    source = meta.get("source")
    return rest, meta["attempt"], source if isinstance(source, str) else None


def dead_letter_topic(spec: HandlerSpec) -> str:
    """The handler's ``dead_letter``, else ``<queue>-dlq`` (what the manifest's README names)."""
    return spec.options.dead_letter or f"{spec.resource}-dlq"


def max_attempts(spec: HandlerSpec) -> int:
    return DEFAULT_MAX_ATTEMPTS if spec.options.max_attempts is None else spec.options.max_attempts


def to_queue_message(record: StreamRecord, spec: HandlerSpec) -> QueueMessage:
    """A Kafka record delivered to a queue handler: its message, attempt counted by corefn."""
    body, attempt, source = unwrap(record.data.content)
    attributes = {"partition": record.partition or "", "offset": record.sequence or ""}
    if source:
        attributes["first_read"] = source
    return QueueMessage(
        queue=spec.resource, body=body, group=record.key, time=record.time, attempt=attempt,
        id=source or record.id, attributes=attributes, raw=record.raw,
    )  # fmt: skip


Producer = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]]], None]


def kafka_producer() -> Producer:
    """A send-and-wait function over kafka-python, configured from the environment."""
    brokers = [b.strip() for b in os.environ.get(BROKERS_ENV, "").split(",") if b.strip()]
    if not brokers:
        raise ConfigurationError(f"{BROKERS_ENV} is not set: a failed queue message cannot be republished or dead-lettered")
    from kafka import KafkaProducer

    from corefn.sinks.kafka import SEND_TIMEOUT, kafka_errors, producer_config

    with kafka_errors("corefn-retry"):
        producer = KafkaProducer(**producer_config(brokers, KafkaProducer.DEFAULT_CONFIG))

    def send(topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        with kafka_errors("corefn-retry"):
            producer.send(topic, value=value, key=key, headers=headers or None).get(timeout=SEND_TIMEOUT)

    return send


#: how queue outcomes are passed on; tests replace it only where no Kafka broker exists
PRODUCER: list[Callable[[], Producer]] = [kafka_producer]


def _pass_on(outcome: Outcome, send: Producer) -> dict[str, Any]:
    message = outcome.event
    assert isinstance(message, QueueMessage) and outcome.spec is not None
    spec = outcome.spec
    attempt = message.attempt or 1
    source = message.attributes.get("first_read") or message.id or ""
    key = message.group.encode() if message.group else None
    limit = max_attempts(spec)
    error = f"{type(outcome.error).__name__}: {outcome.error}"[:1000]
    if type(outcome.error).__name__ == "NotRunAfterFailure":  # never ran (its group stopped): no attempt spent
        send(str(spec.resource), wrap(message.body.content, attempt, source), key, [(ATTEMPT_HEADER, str(attempt).encode())])
        return {"id": source, "requeued": attempt}
    if limit == 0 or attempt < limit:
        value = wrap(message.body.content, attempt + 1, source)
        send(str(spec.resource), value, key, [(ATTEMPT_HEADER, str(attempt + 1).encode())])
        return {"id": source, "retried": attempt + 1}
    headers = [(ATTEMPT_HEADER, str(attempt).encode()), (ERROR_HEADER, error.encode()), (SOURCE_HEADER, source.encode())]
    topic = dead_letter_topic(spec)
    send(topic, message.body.content, key, headers)
    return {"id": source, "dead_letter": topic, "attempts": attempt}


def settle(result: DispatchResult) -> dict[str, Any]:
    """The activation result of a queue delivery: every failed message republished or
    dead-lettered (see the module docstring); an OpenWhisk application error naming the
    messages that could be passed on to neither."""
    failed = [o for o in result.failed if isinstance(o.event, QueueMessage)]
    passed: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    if failed:
        try:
            send = PRODUCER[0]()
        except Exception as error:  # no broker configured / reachable: every failure is lost
            lost = [{"id": o.event.id, "handler_error": str(o.error), "type": type(error).__name__, "message": str(error)} for o in failed]
            failed = []
        for outcome in failed:
            try:
                passed.append(_pass_on(outcome, send))
            except Exception as error:
                lost.append({"id": outcome.event.id, "handler_error": str(outcome.error), "type": type(error).__name__, "message": str(error)})
    handled = sum(1 for o in result.outcomes if o.error is None and not o.skipped)
    summary: dict[str, Any] = {"ok": not lost, "events": len(result.outcomes), "handled": handled, "passed_on": passed}
    if lost:
        return {"error": {"message": f"{len(lost)} failed message(s) could not be republished or dead-lettered", "lost": lost, **summary}}
    return summary


__all__ = ["MAGIC", "PRODUCER", "dead_letter_topic", "max_attempts", "settle", "to_queue_message", "unwrap", "wrap"]
