"""How local backends tell the local runtime that something changed.

On the clouds, a write to S3 or DynamoDB raises a notification by itself. Locally, the file,
SQLite and publisher backends call :func:`emit` after each successful write, and the local runtime
(``corefn run``) listens with :func:`subscribe` to turn those into storage events, NoSQL changes
and queue deliveries. With nobody listening (a plain script, a test), :func:`emit` does nothing.

Events carry the sink's *logical* name (``StorageEvent.bucket == "originals"``), which is what the
app's triggers are declared with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from corefn.events.base import Event

Listener = Callable[[Event], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener(event)`` after every local write; returns the function that unsubscribes."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def emit(event: Event) -> None:
    """Deliver ``event`` to every listener. A listener's failure must not fail the write that
    already happened, so it is logged, not raised."""
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:  # pragma: no cover - logged for the developer, the write stands
            from corefn.log import get_logger

            get_logger("sinks").exception("local change listener failed on %s", event)
