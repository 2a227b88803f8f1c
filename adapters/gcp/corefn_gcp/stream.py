"""Pub/Sub as the data stream on GCP (Google has no Kinesis-like shard service for functions).

Pub/Sub keeps order per *ordering key* (publisher ``ordering_key``, subscription
``--enable-message-ordering``), so when the app declares a topic with ``@app.stream`` the
ordering key is the partition: corefn's dispatcher then blocks the rest of a key after a failure,
as Kinesis does per shard. A message without an ordering key has no order guarantee; it gets
the partition ``""``.

The JSON form cannot know what the app declared, so ``corefn inspect`` prints Pub/Sub messages
as ``topic`` (the contract: "Pub/Sub (unless declared as a stream)"). At run time the generated
entry point pins its handler, and :mod:`corefn_gcp.runtime` re-reads each message with
:func:`as_stream_record` when that handler is a stream handler.
"""

from __future__ import annotations

from corefn.events import StreamRecord, TopicMessage

NO_ORDERING_KEY = ""


def as_stream_record(message: TopicMessage) -> StreamRecord:
    """``sequence`` is the message id: Pub/Sub gives no other position, and ids are unique per
    topic (not dense, and only ordered within an ordering key by delivery, not by value)."""
    return StreamRecord(
        stream=message.topic,
        partition=message.group or NO_ORDERING_KEY,
        sequence=message.id or "",
        key=message.group,
        data=message.body,
        time=message.time,
        id=message.id,
        raw=message.raw,
    )
