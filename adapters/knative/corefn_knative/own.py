"""corefn's own CloudEvents (``dev.corefn.*``, :mod:`corefn_knative.cloudevent`) read back as
the events they carry: one shape per kind, so ``corefn inspect`` names the kind. What corefn
publishes (the ``knative://`` Broker publisher, the Kafka and Pub/Sub bindings) arrives here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.adapters import Shape
from corefn.events import Event
from corefn_knative._envelope import CloudEventShape
from corefn_knative.cloudevent import TYPES, from_json_form

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


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
