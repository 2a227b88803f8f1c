"""Topic messages: any event a Knative Broker delivers through a Trigger (corefn's own
``dev.corefn.*`` events are read by :mod:`corefn_knative.own`).

- Any event a Broker delivers is a **topic message**: topic = its ``type`` (a Trigger
  filters on it), body = its data, attributes = its extensions. A Broker's ingress stamps every
  event it accepts with the ``knativearrivaltime`` extension (knative/eventing
  ``pkg/broker/ingress/ingress_handler.go``: ``event.SetExtension(broker.EventArrivalTime, ...)``,
  https://github.com/knative/eventing/blob/knative-v1.22.2/pkg/broker/ingress/ingress_handler.go),
  which is the signature recognised here; a handler deployed for a
  declared type (``provider={"knative": {"type": ...}}``) is handed the event by name whatever
  its extensions, and receives it under its declared topic (the adapter's ``bind`` step).
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.cloudevents import data_body, extensions
from corefn.events import Event, TopicMessage
from corefn_knative._envelope import CloudEventShape, cloud_event_type

ARRIVAL = "knativearrivaltime"


class BrokerEvent(CloudEventShape):
    name: ClassVar[str] = "broker-event"
    kind: ClassVar[str] = "topic"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return cloud_event_type(raw) is not None and isinstance(raw.get(ARRIVAL), str)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        return [
            TopicMessage(
                topic=r.str(raw, "type"), body=data_body(r, raw), attributes=extensions(raw),
                time=r.time(raw, "time"), id=r.str(raw, "id"), raw=raw,
            )
        ]
