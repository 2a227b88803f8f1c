"""Kafka records: Knative's KafkaSource, which IBM Code Engine's Kafka subscriptions are built on.

KafkaSource sends one CloudEvent per record (https://knative.dev/docs/eventing/sources/kafka-source/):
``type: dev.knative.kafka.event``, ``source: /apis/v1/namespaces/NS/kafkasources/NAME#TOPIC``,
``subject: partition:P#OFFSET``, ``id: partition:P/offset:O``, the record's key in the ``key``
extension (when it has one) and its value as ``data``. A record that already is a CloudEvent
(Kafka protocol binding, ``ce_`` headers) is delivered as that CloudEvent instead, and is read by
the shape of its own type. Code Engine's Kafka subscriptions deliver the same events
(https://cloud.ibm.com/docs/codeengine?topic=codeengine-subscribing-events).

The record becomes a :class:`~corefn.events.StreamRecord` (stream = the topic); a handler
declared on a queue receives it as a :class:`~corefn.events.QueueMessage` (the adapter's
``bind`` step), as Kafka serves both.
"""

from __future__ import annotations

from typing import ClassVar

from corefn.cloudevents import data_body
from corefn.events import Event, StreamRecord
from corefn_knative._envelope import CloudEventShape
from corefn_knative.cloudevent import split_subject

KAFKA_TYPE = "dev.knative.kafka.event"


class KafkaSourceRecord(CloudEventShape):
    name: ClassVar[str] = "kafkasource"
    kind: ClassVar[str] = "stream"
    types: ClassVar[tuple[str, ...]] = (KAFKA_TYPE,)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        source = r.str(raw, "source")
        path, sep, topic = source.partition("#")
        if "/kafkasources/" not in path or not sep or not topic:
            raise r.error("source", f"should be /apis/v1/namespaces/NS/kafkasources/NAME#TOPIC, got {source!r}")
        partition, offset = split_subject(r, r.opt_str(raw, "subject"))
        key = raw.get("key")
        if key is not None and not isinstance(key, str):
            raise r.error("key", f"should be str, got {type(key).__name__}")
        return [
            StreamRecord(
                stream=topic, partition=partition, sequence=offset, key=key or None,
                data=data_body(r, raw), time=r.time(raw, "time"), id=r.str(raw, "id"), raw=raw,
            )
        ]
