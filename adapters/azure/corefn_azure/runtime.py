"""What the generated ``function_app.py`` calls: one binding object in, the Functions answer out.

``run(app_ref, handler, binding, context)`` loads the app (once per process), reads the binding
object with this adapter's shapes, fills in what Azure leaves out of the object but the
declaration knows (the queue, topic, hub or container name; topic vs queue for Service Bus; the
timer's schedule and name; the Cosmos DB partition key), dispatches to the handler the function
was generated for, and answers:

- HTTP: a ``func.HttpResponse`` (a handler failure is a 500 response, as on every gateway).
- Everything else: ``None`` on success; on failure the handler's own exception is *raised*, so the
  host retries the message and finally moves it to ``<queue>-poison`` (Queue Storage, after
  ``maxDequeueCount``), the dead-letter queue (Service Bus, after ``MaxDeliveryCount``), or
  ``webjobs-blobtrigger-poison`` (blob trigger). A failed message is never swallowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.adapters import find_shape, read
from corefn.context import Context
from corefn.errors import UnrecognizedPayloadError
from corefn.events import Event, NoSqlChange, QueueMessage, TimerEvent, TopicMessage
from corefn.kinds import resource_fields
from corefn_azure.nosql import with_partition_key

if TYPE_CHECKING:
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
        if sink.name == spec.resource and sink.kind == "table":
            key = sink.options.get("key")
            return str(key) if key else None
    return None


def _as_topic(event: QueueMessage, spec: HandlerSpec) -> TopicMessage:
    fields = {name: getattr(event, name) for name in ("id", "raw", "body", "attributes", "attempt", "time", "group", "dedup_id")}
    return TopicMessage(topic=spec.resource, subscription=getattr(spec.trigger, "subscription", None), **fields)


def bind(app: App, spec: HandlerSpec, event: Event) -> Event:
    """``event`` completed from the declaration it was delivered for."""
    if spec.kind == "topic" and isinstance(event, QueueMessage):
        return _as_topic(event, spec)
    if isinstance(event, TimerEvent):
        timer: Event = event.replace(name=event.name or spec.name, schedule=event.schedule or getattr(spec.trigger, "schedule", None))
        return timer
    if isinstance(event, NoSqlChange):
        event = with_partition_key(event, partition_key(app, spec))
    field = RESOURCE_FIELDS.get(event.kind)
    if field is not None and getattr(event, field, None) is None and spec.resource is not None:
        named: Event = event.replace(**{field: spec.resource})
        return named
    return event


def context_for(app: App, spec: HandlerSpec, context: Any) -> Context:
    """A corefn Context from Azure's ``func.Context`` (``invocation_id``), when the host gives one."""
    ctx = Context(cloud="azure", function=spec.name, app=app, raw=context)
    invocation_id = getattr(context, "invocation_id", None)
    if isinstance(invocation_id, str) and invocation_id:
        ctx.invocation_id = invocation_id
    return ctx


def run(app: App | str | None, handler: str, binding: Any, context: Any = None) -> Any:
    """Serve one invocation of the function generated for ``handler`` (see module docstring)."""
    from corefn.app import App
    from corefn.dispatch import dispatch
    from corefn.loader import load_app
    from corefn_azure import adapter

    the_app = app if isinstance(app, App) else load_app(app)
    spec = the_app.handler(handler)
    shape = find_shape(adapter, binding)
    if shape is None:
        raise UnrecognizedPayloadError("azure", f"function {handler!r} received a {type(binding).__name__}")
    instance, events = read("azure", shape, binding)
    if shape.kind == "warmup":
        return instance.to_response(None)  # type: ignore[arg-type]
    events = [bind(the_app, spec, event) for event in events]
    result = dispatch(the_app, events, context_for(the_app, spec, context), pinned=spec.name)
    return instance.to_response(result)


def function(app_ref: str, handler: str) -> Callable[..., Any]:
    """A plain callable ``(binding, context=None)`` for ``handler``: what a hand-written
    ``function_app.py`` may register instead of the generated one."""

    def serve(binding: Any, context: Any = None) -> Any:
        return run(app_ref, handler, binding, context)

    serve.__name__ = handler.replace("-", "_").replace(".", "_")
    return serve
