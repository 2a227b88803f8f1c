"""The OpenWhisk adapter's bind step: the Kafka feed serves stream and queue handlers alike, so a
record delivered to a **queue** handler becomes its :class:`~corefn.events.QueueMessage`, the
attempt read from corefn's retry marker (:mod:`corefn_openwhisk.queue`)."""

from __future__ import annotations

from corefn.events import Event, StreamRecord
from corefn.kit import Target


def bind(event: Event, target: Target) -> Event:
    spec = target.spec
    if isinstance(event, StreamRecord) and spec is not None and spec.kind == "queue":
        from corefn_openwhisk.queue import to_queue_message

        return to_queue_message(event, spec)
    return event
