"""What the generated ``function_app.py`` calls: one binding object in, the Functions answer out.

``run(app_ref, handler, binding, context, shape)`` loads the app (once per process) and hands the
binding object to :func:`corefn.adapters.handle`, pinned to the handler the function was
generated for and with the shape its trigger delivers (``queue-message`` for a queue trigger,
...). What Azure leaves out of the object but the declaration knows (the queue, topic, hub or
container name; topic vs queue for Service Bus; the timer's schedule and name; the Cosmos DB
partition key) is filled in by the adapter's ``bind`` step (:func:`corefn_azure._bind.bind`).
The answer:

- HTTP: a ``func.HttpResponse``. A handler failure is a 500 response with the invocation id,
  logged with it, as on every gateway.
- Everything else: ``None`` on success; on failure the handler's own exception is *raised*, so the
  host retries the message and finally moves it to ``<queue>-poison`` (Queue Storage, after
  ``maxDequeueCount``), the dead-letter queue (Service Bus, after ``MaxDeliveryCount``), or
  ``webjobs-blobtrigger-poison`` (blob trigger). A failed message is never swallowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.adapters import handle, shape_named
from corefn.context import Context

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec


def context_for(app: App, spec: HandlerSpec, context: Any) -> Context:
    """A corefn Context from Azure's ``func.Context`` (``invocation_id``), when the host gives one."""
    ctx = Context(cloud="azure", function=spec.name, app=app, raw=context)
    invocation_id = getattr(context, "invocation_id", None)
    if isinstance(invocation_id, str) and invocation_id:
        ctx.invocation_id = invocation_id
    return ctx


def run(app: App | str | None, handler: str, binding: Any, context: Any = None, shape: str | None = None) -> Any:
    """Serve one invocation of the function generated for ``handler`` (see module docstring).
    ``shape`` is the shape the trigger delivers; ``None`` detects it (a hand-written
    ``function_app.py``, or the host's JSON forms)."""
    from corefn.app import App
    from corefn.loader import load_app
    from corefn_azure import adapter

    the_app = app if isinstance(app, App) else load_app(app)
    spec = the_app.handler(handler)
    found = shape_named(adapter, shape) if shape is not None else None
    return handle(adapter, the_app, binding, context_for(the_app, spec, context), pinned=spec.name, shape=found)


def function(app_ref: str, handler: str, shape: str | None = None) -> Callable[..., Any]:
    """A plain callable ``(binding, context=None)`` for ``handler``: what a hand-written
    ``function_app.py`` may register instead of the generated one."""

    def serve(binding: Any, context: Any = None) -> Any:
        return run(app_ref, handler, binding, context, shape)

    serve.__name__ = handler.replace("-", "_").replace(".", "_")
    return serve
