"""corefn's portable events: one frozen, slotted class per trigger kind."""

from __future__ import annotations

from corefn.events.authorize import Allow, AuthorizeRequest, Deny
from corefn.events.base import Body, Event, Headers, LazyMap, Query, format_time, parse_time
from corefn.events.http import HttpRequest, HttpResponse
from corefn.events.invoke import InvokeEvent
from corefn.events.nosql import NoSqlChange
from corefn.events.queue import Message, QueueMessage, TopicMessage
from corefn.events.storage import STORAGE_OPERATIONS, StorageEvent
from corefn.events.stream import StreamRecord
from corefn.events.timer import TimerEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from corefn.events.nosql import NoSqlOperation
    from corefn.events.storage import StorageOperation

#: kind name → event class; the JSON form's "kind" field.
EVENT_KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (HttpRequest, StorageEvent, QueueMessage, TopicMessage, TimerEvent, StreamRecord, NoSqlChange, InvokeEvent, AuthorizeRequest)
}


def __getattr__(name: str) -> Any:
    """The ``Literal`` aliases, built when first named (see :mod:`corefn._aliases`)."""
    if name == "NoSqlOperation":
        from corefn.events import nosql

        return nosql.NoSqlOperation
    if name == "StorageOperation":
        from corefn.events import storage

        return storage.StorageOperation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EVENT_KINDS",
    "STORAGE_OPERATIONS",
    "Allow",
    "AuthorizeRequest",
    "Body",
    "Deny",
    "Event",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "InvokeEvent",
    "LazyMap",
    "Message",
    "NoSqlChange",
    "NoSqlOperation",
    "Query",
    "QueueMessage",
    "StorageEvent",
    "StorageOperation",
    "StreamRecord",
    "TimerEvent",
    "TopicMessage",
    "format_time",
    "parse_time",
]
