"""The GCP adapter's ``bind`` step: a Pub/Sub message as the kind its handler declared.

Pub/Sub is the transport of three corefn kinds on GCP: topics, queues (a topic with one push
subscription) and streams (a topic with ordering keys). A push body or an Eventarc CloudEvent
reads as a TopicMessage; :func:`bind` re-reads it as a QueueMessage or StreamRecord when the
handler it is delivered to (the pinned one, else the one declared for its topic) says so. A push
body names no topic: it gets the pinned handler's. A Cloud Scheduler tick gets its timer's name
and cron schedule when the job did not send them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from corefn.events import Event, TimerEvent, TopicMessage
from corefn.specs import TimerTrigger
from corefn_gcp.queue import as_queue_message
from corefn_gcp.stream import as_stream_record

if TYPE_CHECKING:
    from corefn.adapters import Target
    from corefn.specs import HandlerSpec

#: declared handler kind → how a Pub/Sub message is re-read for it
AS_DECLARED: dict[str, Callable[[TopicMessage], Event]] = {"queue": as_queue_message, "stream": as_stream_record}


def bind(event: Event, target: Target) -> Event:
    """A Pub/Sub message as the kind its handler declared (see the module docstring). A push
    body names no topic: it gets the topic the pinned handler was declared for. A scheduler tick
    gets its timer's name and cron schedule when the job did not send them."""
    spec = target.spec
    if isinstance(event, TimerEvent):
        if spec is not None and isinstance(spec.trigger, TimerTrigger):
            changed: TimerEvent = event.replace(
                name=event.name or spec.name, schedule=event.schedule or spec.trigger.schedule
            )
            return changed
        return event
    if not isinstance(event, TopicMessage):
        return event
    if spec is None:
        spec = _declared_for(target, event.topic)
    if spec is None:
        return event
    if event.topic is None and spec.resource is not None and spec.kind in ("topic", "queue", "stream"):
        event = event.replace(topic=spec.resource)
    convert = AS_DECLARED.get(spec.kind)
    return convert(event) if convert is not None and isinstance(event, TopicMessage) else event


def _declared_for(target: Target, topic: str | None) -> HandlerSpec | None:
    """The one queue or stream handler declared for ``topic`` (by its logical name), if any."""
    logical = target.logical(topic)
    if logical is None:
        return None
    found = [s for s in target.app.handlers if s.kind in AS_DECLARED and s.resource == logical]
    return found[0] if len(found) == 1 else None
