"""Google Cloud Pub/Sub as a publisher (google-cloud-pubsub).

URL: ``pubsub://topic`` (project from ``GOOGLE_CLOUD_PROJECT``) or ``pubsub://project/topic``.
``PUBSUB_EMULATOR_HOST`` points the client at the emulator. The topic must exist.

Attributes become Pub/Sub message attributes (string to string; names may not start with
``goog``). ``group`` becomes the ordering key: the client is created with message ordering
enabled, so messages with one key are delivered in order to subscriptions that enable ordering
(and after a failed publish the key is resumed, so one error does not block it for good).

The client batches (up to 5 ms, 1000 messages or 1 MB) and ``send`` waits for the server's
message id, so a function does not return before its message is stored. ``send_batch``
publishes everything first and then waits, so the whole list goes in as few requests as the
batch limits allow. The gRPC client is created once per process (it costs ~100 ms).

CloudEvents: with ``cloudevents=True`` on the sink, every message is its CloudEvent in the
Pub/Sub binding's binary mode (:func:`corefn.cloudevents.bindings.pubsub_message`: ``ce-``
attributes and ``content-type``, the body as the data), the caller's attributes beside them and
the group still the ordering key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from corefn.cloudevents.bindings import pubsub_message
from corefn.cloudevents.publisher import cloudevents_wanted, message
from corefn.errors import ConfigurationError, SinkError
from corefn.kit.sinks import Body, body_bytes, check_attributes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_gcp.sinks import google_errors, project_and_name, sdk_required

MAX_BODY = 10 * 1000 * 1000
PUBLISH_TIMEOUT = 60.0


class PubSubPublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False
    #: honours ``cloudevents=True`` itself, in binary mode (see the module docstring)
    sends_cloudevents: ClassVar[bool] = True

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from google.cloud.pubsub_v1 import PublisherClient, types

        self.spec = spec
        self.cloudevents = cloudevents_wanted(spec)
        project, topic, _ = project_and_name(url)
        if not project:
            raise ConfigurationError(f"sink URL {url!r}: set GOOGLE_CLOUD_PROJECT or use pubsub://PROJECT/{topic}")
        with google_errors(spec.name):
            self._client = PublisherClient(
                batch_settings=types.BatchSettings(max_latency=0.005, max_messages=1000, max_bytes=1_000_000),
                publisher_options=types.PublisherOptions(enable_message_ordering=True),
            )
        self.topic: str = self._client.topic_path(project, topic)

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        project, topic, _ = project_and_name(url)
        return [Permission("gcp", ("roles/pubsub.publisher",), f"projects/{project or '*'}/topics/{topic}")]

    def _publish(self, body: Body, attributes: Mapping[str, str] | None, group: str | None) -> Any:
        data = body_bytes(body)
        attrs = check_attributes(attributes, self.spec.name)
        if bad := [k for k in attrs if k.startswith("goog")]:
            raise ConfigurationError(f"sink {self.spec.name!r}: Pub/Sub reserves attribute names starting with 'goog': {bad}")
        if self.cloudevents:
            data, attrs = pubsub_message(message(self.spec, body, None, group), attrs, self.spec.name)
        if len(data) > MAX_BODY:
            raise SinkError(self.spec.name, f"a Pub/Sub message is at most {MAX_BODY} bytes, got {len(data)}")
        if not data and not attrs:
            raise SinkError(self.spec.name, "Pub/Sub refuses a message with neither data nor attributes")
        with google_errors(self.spec.name):
            return self._client.publish(self.topic, data, ordering_key=group or "", **attrs)

    def _wait(self, future: Any, group: str | None) -> str:
        try:
            with google_errors(self.spec.name):
                return str(future.result(timeout=PUBLISH_TIMEOUT))
        except SinkError:
            if group:
                self._client.resume_publish(self.topic, group)
            raise

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        return self._wait(self._publish(body, attributes, group), group)

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        futures = [self._publish(body, attributes, None) for body in bodies]
        return [self._wait(future, None) for future in futures]


def open_backend(spec: SinkSpec, url: str) -> PubSubPublisher:
    with sdk_required():
        return PubSubPublisher(spec, url)
