"""Structured-mode CloudEvents for every publisher without a binary binding (SQS, SNS, Kinesis,
Queue Storage, Event Hubs, the local queue, Redis...): each message body becomes the JSON form of
its CloudEvent (JSON event format, https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md),
the caller's attributes go inside it (``corefnattributes``) and the group stays the transport's
group. :func:`corefn.sinks.open_sink` puts this wrapper around a backend whose sink is declared
with ``cloudevents=True``, unless the backend says it sends CloudEvents itself
(``sends_cloudevents = True``: Kafka, Pub/Sub, Service Bus, the Knative Broker).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from corefn.cloudevents import message_form
from corefn.cloudevents.bindings import structured
from corefn.sinks._publish import Body, body_bytes, check_attributes
from corefn.specs import SinkSpec


def cloudevents_wanted(spec: SinkSpec) -> bool:
    """Whether the app declared this publisher with ``cloudevents=True`` (anything else than a
    bool is refused: ``cloudevents="binary"`` is no mode corefn offers, the binding decides)."""
    value = spec.options.get("cloudevents", False)
    if not isinstance(value, bool):
        from corefn.errors import ConfigurationError

        raise ConfigurationError(f"sink {spec.name!r}: cloudevents= is True or False, not {value!r}")
    if value and spec.family != "publisher":
        from corefn.errors import ConfigurationError

        raise ConfigurationError(f"sink {spec.name!r}: cloudevents=True is an option of publishers, not of {spec.family} sinks")
    return value


def message(spec: SinkSpec, body: Body, attributes: Mapping[str, str] | None, group: str | None) -> dict[str, Any]:
    """The CloudEvent (JSON form) of one message sent through ``spec``."""
    return message_form(spec.resource_kind, spec.name, body_bytes(body), group=group,
                        attributes=check_attributes(attributes, spec.name), json_body=isinstance(body, (Mapping, list)))  # fmt: skip


class StructuredPublisher:
    """Sends every message as a structured-mode CloudEvent through ``backend``."""

    sends_cloudevents = True

    def __init__(self, spec: SinkSpec, backend: Any) -> None:
        self.spec = spec
        self.backend = backend

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        return str(self.backend.send(structured(message(self.spec, body, attributes, group)), group=group))

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        return list(self.backend.send_batch([structured(message(self.spec, body, attributes, None)) for body in bodies]))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


__all__ = ["StructuredPublisher", "cloudevents_wanted", "message"]
