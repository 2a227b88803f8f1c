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

from corefn.adapters import WarmupShape
from corefn.kit import Provider, lazy
from corefn_knative._bind import bind
from corefn_knative.own import CorefnShapes
from corefn_knative.queue import BrokerEvent
from corefn_knative.storage import CosCloudEvent, S3Webhook
from corefn_knative.stream import KafkaSourceRecord
from corefn_knative.timer import PingSource

adapter = Provider(
    "knative",
    (
        WarmupShape,
        *CorefnShapes,
        PingSource,
        KafkaSourceRecord,
        CosCloudEvent,
        S3Webhook,
        BrokerEvent,
    ),
    generator="corefn_knative.generator",  # Dockerfile, Knative manifests, Code Engine commands
    samples="corefn_knative.samples",
    # each event completed for the handler this Service was deployed for (corefn_knative._bind)
    bind=bind,
    compile_policy=lazy("corefn_knative.policy", "compile_policy"),  # Knative delivery settings
    bundle_root="app",  # the Dockerfile copies it into the image
    # flows run on corefn's engine in a Service of their own, state in the table sink declared
    # with flow_state=True (corefn_knative.flows); ctx.start_flow writes the run there
    deploys_flows=True,
    start_flow=lazy("corefn_knative.flows", "start_flow"),
)

__all__ = ["adapter"]
