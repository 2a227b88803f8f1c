"""The Azure adapter's ``bind`` step: what a binding object leaves out and the declaration knows.

The Python worker hands a function ``func.QueueMessage`` without its queue's name, a
``func.ServiceBusMessage`` without saying whether it came from a queue or a topic subscription, a
``func.TimerRequest`` without its schedule, a ``func.DocumentList`` without its container or
partition key path. The generated ``function_app.py`` pins each function to its handler, so
:func:`corefn.adapters.handle` gives :func:`bind` that handler's declaration to complete the event
from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.events import Event, NoSqlChange, QueueMessage, TimerEvent, TopicMessage
from corefn.kinds import resource_fields
from corefn_azure.nosql import with_partition_key

if TYPE_CHECKING:
    from corefn.adapters import Target
    from corefn.app import App
    from corefn.specs import HandlerSpec

#: event kind → the field that names its resource, for events Azure leaves unnamed
RESOURCE_FIELDS: dict[str, str] = resource_fields()


def provider_options(spec: HandlerSpec) -> dict[str, Any]:
    """The handler's ``azure`` provider options (``Options.provider["azure"]``)."""
    return dict(spec.options.provider.get("azure", {}))


def partition_key(app: App, spec: HandlerSpec) -> str | None:
    """The Cosmos DB partition key path: the ``azure`` option ``partition_key``, else the key of
    a table sink declared under the same name (``app.table("devices", key="deviceId")``)."""
    option = provider_options(spec).get("partition_key")
    if option:
        return str(option)
    for sink in app.sinks:
        if sink.name == spec.resource and sink.family == "table":
            key = sink.options.get("key")
            return str(key) if key else None
    return None


def _as_topic(event: QueueMessage, spec: HandlerSpec) -> TopicMessage:
    fields = {
        name: getattr(event, name)
        for name in ("id", "raw", "body", "attributes", "attempt", "time", "group", "dedup_id")
    }
    return TopicMessage(topic=spec.resource, subscription=getattr(spec.trigger, "subscription", None), **fields)


def bind(event: Event, target: Target) -> Event:
    """``event`` completed from the declaration it was delivered for (the adapter's ``bind``)."""
    spec = target.spec
    if spec is None:  # routed by resource name: nothing declared to complete it from
        return event
    if spec.kind == "topic" and isinstance(event, QueueMessage):
        return _as_topic(event, spec)
    if isinstance(event, TimerEvent):
        timer: Event = event.replace(
            name=event.name or spec.name, schedule=event.schedule or getattr(spec.trigger, "schedule", None)
        )
        return timer
    if isinstance(event, NoSqlChange):
        event = with_partition_key(event, partition_key(target.app, spec))
    field = RESOURCE_FIELDS.get(event.kind)
    if field is not None and getattr(event, field, None) is None and spec.resource is not None:
        named: Event = event.replace(**{field: spec.resource})
        return named
    return event
