"""Stored rows ⇄ corefn events: what a local delivery looks like to a handler.

The runtime produces corefn events directly (it never goes through an adapter): one builder per
kind, in a table. Storage events, NoSQL changes and timer ticks keep their fields in the row's
``meta`` JSON; queue, topic and stream payloads are the row's ``body`` bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from corefn.events import NoSqlChange, QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage
from corefn.events.base import Body, Event, format_time, parse_time, plain
from corefn.local.store import Delivery, NewDelivery


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _group(d: Delivery) -> str | None:
    """The message group, on an ordered queue or topic only (the row has a partition): as on a
    cloud, where an unordered declaration deploys a standard queue whose messages carry no group.
    The dispatcher holds back the rest of a group after a failure, so a group on an unordered
    queue would order what the deployed queue does not."""
    return d.key if d.partition is not None else None


def _queue(d: Delivery) -> Event:
    return QueueMessage(
        queue=d.resource, id=d.id, body=Body(d.body), attributes=d.attributes, attempt=d.attempt,
        time=_time(d.created), group=_group(d),
    )


def _topic(d: Delivery) -> Event:
    return TopicMessage(
        topic=d.resource, id=d.id, body=Body(d.body), attributes=d.attributes, attempt=d.attempt,
        time=_time(d.created), group=_group(d),
    )


def _stream(d: Delivery) -> Event:
    return StreamRecord(
        stream=d.resource, partition=d.partition or "0", sequence=str(d.seq), key=d.key,
        data=Body(d.body), time=_time(d.created), id=d.id,
    )


def _storage(d: Delivery) -> Event:
    m = d.meta
    return StorageEvent(
        bucket=d.resource, key=m["key"], operation=m["operation"], size=m.get("size"),
        time=parse_time(m.get("time")), etag=m.get("etag"), content_type=m.get("content_type"), id=d.id,
    )


def _nosql(d: Delivery) -> Event:
    m = d.meta
    return NoSqlChange(
        table=d.resource, operation=m["operation"], keys=m.get("keys") or {}, new=m.get("new"), old=m.get("old"),
        sequence=str(d.seq), time=parse_time(m.get("time")) or _time(d.created), id=d.id,
    )


def _timer(d: Delivery) -> Event:
    m = d.meta
    return TimerEvent(
        time=parse_time(m["time"]), schedule=m.get("schedule"), name=d.handler, past_due=bool(m.get("past_due")), id=d.id
    )


#: delivery kind → how a stored row becomes the event its handler receives
EVENT_BUILDERS: dict[str, Callable[[Delivery], Event]] = {
    "queue": _queue,
    "topic": _topic,
    "stream": _stream,
    "storage": _storage,
    "nosql": _nosql,
    "timer": _timer,
}


def to_event(delivery: Delivery) -> Event:
    return EVENT_BUILDERS[delivery.kind](delivery)


# ------------------------------------------------------------------------- events → rows


def storage_row(event: StorageEvent, handler: str) -> NewDelivery:
    meta = {
        "key": event.key, "operation": event.operation, "size": event.size, "time": format_time(event.time),
        "etag": event.etag, "content_type": event.content_type,
    }
    return NewDelivery("storage", event.bucket, handler, meta=meta, id=event.id)


def nosql_row(change: NoSqlChange, handler: str) -> NewDelivery:
    """Changes of one item stay in order: the partition is the table plus the item's key."""
    keys = plain(change.keys)
    meta = {
        "operation": change.operation, "keys": keys, "new": plain(change.new), "old": plain(change.old),
        "time": format_time(change.time),
    }
    partition = f"{change.table}:{json.dumps(keys, sort_keys=True, default=str)}"
    return NewDelivery("nosql", str(change.table), handler, meta=meta, partition=partition, id=change.id)


def timer_row(handler: str, tick: datetime, schedule: str, tz: str, past_due: bool) -> NewDelivery:
    meta: dict[str, Any] = {"time": format_time(tick), "schedule": schedule, "tz": tz, "past_due": past_due}
    return NewDelivery("timer", handler, handler, meta=meta)
