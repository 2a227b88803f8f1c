"""corefn's portable events: one frozen, slotted class per trigger kind."""

from corefn.events.authorize import Allow, AuthorizeRequest, Deny
from corefn.events.base import Body, Event, Headers, LazyMap, Query, format_time, parse_time
from corefn.events.http import HttpRequest, HttpResponse
from corefn.events.invoke import InvokeEvent
from corefn.events.nosql import NoSqlChange, NoSqlOperation
from corefn.events.queue import Message, QueueMessage, TopicMessage
from corefn.events.storage import STORAGE_OPERATIONS, StorageEvent, StorageOperation
from corefn.events.stream import StreamRecord
from corefn.events.timer import TimerEvent

#: kind name → event class; the JSON form's "kind" field.
EVENT_KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (HttpRequest, StorageEvent, QueueMessage, TopicMessage, TimerEvent, StreamRecord, NoSqlChange, InvokeEvent, AuthorizeRequest)
}

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
