"""The Knative adapter's bind step: complete each event from the handler it was deployed for.

One Knative Service serves one handler (``COREFN_HANDLER`` pinned), so what the CloudEvent does
not say comes from that handler's declaration:

- a PingSource tick gets the timer's name and cron schedule (the time zone is the PingSource's
  ``timezone``, written by the generator from the same declaration);
- a KafkaSource record delivered to a **queue** handler becomes a QueueMessage (Kafka serves
  both; the record's key is the message group, as it is the unit of order);
- a storage event gets the bucket's logical name: the Service's COS subscription or MinIO webhook
  was set up for the one bucket its handler declared, whatever the store calls it;
- a broker event delivered to a **topic** handler is that topic's message: the handler's
  Trigger filtered on its declared type (``provider={"knative": {"type": ...}}``), so the
  event's ``type`` is replaced by the declared topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corefn.events import Event, QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage
from corefn.specs import TimerTrigger

if TYPE_CHECKING:
    from corefn.kit import Target
    from corefn.specs import HandlerSpec


def declared_type(spec: HandlerSpec) -> str | None:
    """The CloudEvent type a topic handler declared (``provider={"knative": {"type": ...}}``), or
    None: its Trigger then filters on corefn's own ``dev.corefn.topic.message`` from its topic."""
    declared = spec.options.provider.get("knative", {}).get("type")
    return declared if isinstance(declared, str) and declared else None


def bind(event: Event, target: Target) -> Event:
    """The adapter's bind step: ``event`` completed for the handler the Service was deployed for."""
    return bind_event(event, target.spec)


def bind_event(event: Event, spec: HandlerSpec | None) -> Event:
    """``event`` completed for ``spec`` (the pinned handler), or as it is without one."""
    if spec is None:
        return event
    if isinstance(event, TimerEvent) and isinstance(spec.trigger, TimerTrigger):
        timer: Event = event.replace(name=spec.name, schedule=event.schedule or spec.trigger.schedule)
        return timer
    if isinstance(event, StorageEvent) and spec.kind == "storage" and spec.resource:
        storage: Event = event.replace(bucket=spec.resource)
        return storage
    if isinstance(event, StreamRecord) and spec.kind == "queue":
        return QueueMessage(
            queue=spec.resource, body=event.data, group=event.key, time=event.time, id=event.id,
            attributes={"partition": event.partition, "offset": event.sequence}, raw=event.raw,
        )
    if isinstance(event, TopicMessage) and spec.kind == "topic" and event.topic is not None and event.topic == declared_type(spec):
        topic: Event = event.replace(topic=spec.resource)
        return topic
    return event
