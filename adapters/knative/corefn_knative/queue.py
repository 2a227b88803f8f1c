"""Messages: corefn's own CloudEvents and any event a Knative Broker delivers through a Trigger.

- ``dev.corefn.*`` CloudEvents (what corefn publishes, :mod:`corefn_knative.cloudevent`) are
  read back as the event they carry, one shape per kind, so ``corefn inspect`` names the kind.
- Any other event a Broker delivers is a **topic message**: topic = its ``type`` (a Trigger
  filters on it), body = its data, attributes = its extensions. A Broker's ingress stamps every
  event it accepts with the ``knativearrivaltime`` extension
  (https://knative.dev/docs/eventing/brokers/broker-event-delivery/ names it among the
  attributes a broker adds), which is the signature recognised here; a handler deployed for a
  declared type (``provider={"knative": {"type": ...}}``) is handed the event by name whatever
  its extensions, and receives it under its declared topic (the adapter's ``prepare`` step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.adapters import Shape
from corefn.events import Event, TopicMessage
from corefn_knative._envelope import CloudEventShape, KnativeReader, cloud_event_type, data_body, extensions
from corefn_knative.cloudevent import TYPES, from_json_form

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult

ARRIVAL = "knativearrivaltime"


class _Corefn(CloudEventShape):
    def to_events(self) -> list[Event]:
        return [from_json_form(self.raw, self.name)]


class CorefnStorage(_Corefn):
    name: ClassVar[str] = "corefn-storage"
    kind: ClassVar[str] = "storage"
    types: ClassVar[tuple[str, ...]] = (TYPES["storage"],)


class CorefnQueue(_Corefn):
    name: ClassVar[str] = "corefn-queue"
    kind: ClassVar[str] = "queue"
    types: ClassVar[tuple[str, ...]] = (TYPES["queue"],)


class CorefnTopic(_Corefn):
    name: ClassVar[str] = "corefn-topic"
    kind: ClassVar[str] = "topic"
    types: ClassVar[tuple[str, ...]] = (TYPES["topic"],)


class CorefnTimer(_Corefn):
    name: ClassVar[str] = "corefn-timer"
    kind: ClassVar[str] = "timer"
    types: ClassVar[tuple[str, ...]] = (TYPES["timer"],)


class CorefnStream(_Corefn):
    name: ClassVar[str] = "corefn-stream"
    kind: ClassVar[str] = "stream"
    types: ClassVar[tuple[str, ...]] = (TYPES["stream"],)


class CorefnNoSql(_Corefn):
    name: ClassVar[str] = "corefn-nosql"
    kind: ClassVar[str] = "nosql"
    types: ClassVar[tuple[str, ...]] = (TYPES["nosql"],)


class CorefnInvoke(_Corefn):
    name: ClassVar[str] = "corefn-invoke"
    kind: ClassVar[str] = "invoke"
    types: ClassVar[tuple[str, ...]] = (TYPES["invoke"],)


class CorefnHttp(_Corefn):
    """An HTTP request carried in a CloudEvent is answered with the handler's response."""

    name: ClassVar[str] = "corefn-http"
    kind: ClassVar[str] = "http"
    types: ClassVar[tuple[str, ...]] = (TYPES["http"],)

    def to_response(self, result: DispatchResult) -> Any:
        return result.response if result.response is not None else super().to_response(result)


CorefnShapes: tuple[type[Shape], ...] = (
    CorefnStorage, CorefnQueue, CorefnTopic, CorefnTimer, CorefnStream, CorefnNoSql, CorefnInvoke, CorefnHttp,
)


class BrokerEvent(CloudEventShape):
    name: ClassVar[str] = "broker-event"
    kind: ClassVar[str] = "topic"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return cloud_event_type(raw) is not None and isinstance(raw.get(ARRIVAL), str)

    def to_events(self) -> list[Event]:
        r, raw = KnativeReader(self.name), self.raw
        return [
            TopicMessage(
                topic=r.str(raw, "type"), body=data_body(r, raw), attributes=extensions(raw),
                time=r.time(raw, "time"), id=r.str(raw, "id"), raw=raw,
            )
        ]
