"""corefn's Knative adapter: CloudEvents in and out, on any Kubernetes with Knative Serving and
Eventing, and on IBM Cloud Code Engine (built on Knative).

Shapes, in the order they are tried (most specific signature first)::

    shape              kind     payload
    warmup             warmup   {"corefn": "warmup"} / serverless-plugin-warmup ping
    corefn-<kind>      <kind>   corefn's own CloudEvents, dev.corefn.<kind>.* (cloudevent.py)
    pingsource         timer    dev.knative.sources.ping (PingSource; Code Engine cron subscriptions)
    kafkasource        stream   dev.knative.kafka.event (KafkaSource; Code Engine Kafka subscriptions)
    cos-subscription   storage  com.ibm.cloud.cos.document.write | delete (Code Engine COS subscriptions)
    s3-webhook         storage  MinIO-style bucket notification, plain JSON {"EventName", "Records"}
    broker-event       topic    any CloudEvent a Broker delivered (knativearrivaltime extension)

Every CloudEvent reaches the shapes in the JSON event format, whatever its HTTP content mode
(:mod:`corefn_knative._envelope`); :mod:`corefn_knative.runtime` is the ASGI server a generated
Knative Service runs, :mod:`corefn_knative.generator` writes the manifests. Importing this
package imports neither the ``cloudevents`` SDK nor uvicorn (cold start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corefn.adapters import Shape, WarmupShape
from corefn.events import Event
from corefn_knative._bind import bind_event
from corefn_knative.own import CorefnShapes
from corefn_knative.queue import BrokerEvent
from corefn_knative.storage import CosCloudEvent, S3Webhook
from corefn_knative.stream import KafkaSourceRecord
from corefn_knative.timer import PingSource

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.policy import CompiledPolicy, RetryPolicy


class KnativeAdapter:
    name = "knative"
    #: where ``corefn deploy`` writes the bundle (the Dockerfile copies it into the image)
    bundle_root = "app"
    shapes: Sequence[type[Shape]] = (
        WarmupShape,
        *CorefnShapes,
        PingSource,
        KafkaSourceRecord,
        CosCloudEvent,
        S3Webhook,
        BrokerEvent,
    )

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        """Dockerfile, Knative manifests, Code Engine commands (see :mod:`corefn_knative.generator`)."""
        from corefn_knative.generator import generate

        return generate(app, app_ref)

    def compile_policy(self, app: App, policy: RetryPolicy) -> CompiledPolicy:
        """The handler's retry policy as Knative delivery settings (:mod:`.policy`)."""
        from corefn_knative.policy import compile_policy

        return compile_policy(app, policy)

    def bind(self, event: Event, target: Any) -> Event:
        """Each event completed for the handler this Service was deployed for (:mod:`._bind`;
        ``target.spec`` is the pinned handler, or None)."""
        return bind_event(event, getattr(target, "spec", None))

    def sample(self, trigger: str) -> Any:
        from corefn.adapters import load_sample

        return load_sample("corefn_knative.samples", self.name, trigger)


adapter = KnativeAdapter()

__all__ = ["KnativeAdapter", "adapter"]
