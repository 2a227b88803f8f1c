"""corefn's Google Cloud adapter: Cloud Functions (functions-framework) payloads in, answers out.

Shapes, in the order they are tried (most specific signature first)::

    shape                  kind     payload
    warmup                 warmup   {"corefn": "warmup"} / serverless-plugin-warmup ping
    warmup-cloudevent      warmup   CloudEvent type dev.corefn.warmup (the generated keep-warm job)
    storage-cloudevent     storage  google.cloud.storage.object.v1.*            (2nd gen)
    storage-legacy         storage  google.storage.object.*, providers/cloud.storage/* (1st gen)
    storage-notification   storage  GCS Pub/Sub notification (bucketId/objectId/eventType), any envelope
    firestore-cloudevent   nosql    google.cloud.firestore.document.v1.*  (JSON or protobuf data)
    firestore-legacy       nosql    providers/cloud.firestore/eventTypes/document.*
    scheduler-pubsub       timer    Pub/Sub message with attribute corefn-timer, any envelope
    pubsub-cloudevent      topic    google.cloud.pubsub.topic.v1.messagePublished
    pubsub-legacy          topic    google.pubsub.topic.publish, providers/cloud.pubsub/.../topic.publish
    pubsub-push            topic    push subscription body {"message", "subscription", "deliveryAttempt"}
    scheduler-http         timer    Flask request with X-Corefn-Timer / X-CloudScheduler-JobName
    http                   http     any other Flask request

Importing this package imports no Google SDK, Flask or functions-framework (cold start); the
generated ``main.py`` imports functions-framework and :mod:`corefn_gcp.runtime`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.adapters import WarmupShape
from corefn.events import Event
from corefn.kit import Failure, PayloadShape, Provider, lazy
from corefn_gcp._envelope import cloud_event_type
from corefn_gcp.http import FlaskHttp
from corefn_gcp.nosql import FirestoreCloudEvent, FirestoreLegacy
from corefn_gcp.queue import PubSubCloudEvent, PubSubLegacy, PubSubPush
from corefn_gcp.storage import StorageCloudEvent, StorageLegacy, StorageNotification
from corefn_gcp.timer import SchedulerHttp, SchedulerPubSub

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult

WARMUP_TYPE = "dev.corefn.warmup"


class WarmupCloudEvent(PayloadShape):
    """The keep-warm ping the generated Cloud Scheduler job sends to CloudEvent functions (a
    plain JSON body would not get past functions-framework's CloudEvent parsing)."""

    provider: ClassVar[str] = "gcp"
    name: ClassVar[str] = "warmup-cloudevent"
    kind: ClassVar[str] = "warmup"
    failure: ClassVar[Failure] = Failure.RESULT  # never runs user code: nothing can fail

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return cloud_event_type(raw) == WARMUP_TYPE

    def to_events(self) -> list[Event]:
        return []

    def to_response(self, result: DispatchResult | None) -> Any:
        return {"warmup": True}


adapter = Provider(
    "gcp",
    (
        WarmupShape,
        WarmupCloudEvent,
        StorageCloudEvent,
        StorageLegacy,
        StorageNotification,
        FirestoreCloudEvent,
        FirestoreLegacy,
        SchedulerPubSub,
        PubSubCloudEvent,
        PubSubLegacy,
        PubSubPush,
        SchedulerHttp,
        FlaskHttp,
    ),
    generator="corefn_gcp.generator",  # main.py, requirements.txt, deploy.sh, teardown.sh, README.md
    samples="corefn_gcp.samples",
    # the function's source root: main.py and the vendored code sit side by side
    bundle_root=".",
    compile_policy=lazy("corefn_gcp.policy", "compile_policy"),  # Pub/Sub's and Eventarc's terms
    deploys_flows=True,  # deploy.sh deploys each flow as a Cloud Workflows workflow (corefn_gcp._flows_deploy)
    start_flow=lazy("corefn_gcp.flowstart", "start_flow"),  # ctx.start_flow: a Workflows execution
    # Pub/Sub messages for queue and stream handlers, push bodies without a topic, scheduler ticks
    # without a schedule (corefn_gcp._bind)
    bind=lazy("corefn_gcp._bind", "bind"),
    dead_letters=lazy("corefn_gcp.deadletters", "open_dead_letters"),  # corefn dead --cloud gcp
)

__all__ = ["WarmupCloudEvent", "adapter"]
