"""corefn's Azure Functions adapter.

Azure's Python worker hands a function typed binding objects from ``azure-functions``; this
adapter reads them (and the JSON forms below, for ``corefn inspect --cloud azure``) into corefn
events, and :mod:`corefn_azure.generator` writes a v2-programming-model ``function_app.py`` that
calls :func:`corefn_azure.runtime.run`. Importing this package imports no ``azure.*`` module:
binding objects are recognised by their class's module name first.

Shapes, in detection order (``--shape NAME``):

==================== ======= ==============================================================
name                 kind    input
==================== ======= ==============================================================
warmup               warmup  ``{"corefn": "warmup"}`` keep-warm ping
eventgrid            storage Event Grid schema event or array (non-blob types → topic)
cloudevent           storage CloudEvents 1.0 schema event or array, ``type: Microsoft.*``
timer-info           timer   bare ``TimerInfo`` JSON (``ScheduleStatus``, ``IsPastDue``)
cosmosdb-documents   nosql   bare Cosmos DB document list / document with system properties
host-http            http    host envelope, ``Data.<req>`` with ``Method`` and ``Url``
host-timer           timer   host envelope, ``Data.<timer>`` a TimerInfo
host-eventhub        stream  host envelope, ``Metadata.PartitionContext`` / ``SystemProperties*``
host-servicebus      queue   host envelope, ``Metadata.MessageId`` + ``DeliveryCount``
host-queue           queue   host envelope, ``Metadata.DequeueCount`` + ``PopReceipt``
host-blob            storage host envelope, ``Metadata.BlobTrigger``
host-cosmosdb        nosql   host envelope, ``Data.<docs>`` a list of documents
host-envelope        —       any other host envelope: an EventShapeError
http-request         http    ``func.HttpRequest``
blob-stream          storage ``func.InputStream``
eventgrid-object     storage ``func.EventGridEvent``
queue-message        queue   ``func.QueueMessage``
servicebus-message   queue   ``func.ServiceBusMessage`` (or a list); topic per declaration
timer-request        timer   ``func.TimerRequest``
eventhub-event       stream  ``func.EventHubEvent`` (or a list, ``cardinality="many"``)
document-list        nosql   ``func.DocumentList``
==================== ======= ==============================================================

The *host envelope* is ``{"Data": {...}, "Metadata": {...}}``, the request the Functions host
sends a custom handler (see :mod:`corefn_azure._common`). JSON without any Azure signature (a bare
Event Hubs body array, plain objects) is not claimed: with ``--cloud azure`` it is a direct
invoke, as the core's detection rules say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corefn.adapters import BaseAdapter, Shape, WarmupShape
from corefn_azure._envelope import HostEnvelope
from corefn_azure.http import HostHttp, HttpRequestObject
from corefn_azure.nosql import CosmosDocuments, DocumentListObject, HostCosmos
from corefn_azure.queue import HostQueue, HostServiceBus, QueueMessageObject, ServiceBusObject
from corefn_azure.storage import BlobStream, CloudEventSchema, EventGridObject, EventGridSchema, HostBlob
from corefn_azure.stream import EventHubObject, HostEventHub
from corefn_azure.timer import HostTimer, TimerInfoJson, TimerRequestObject

if TYPE_CHECKING:
    from corefn.adapters import Target
    from corefn.app import App
    from corefn.events import Event
    from corefn.policy import CompiledPolicy, RetryPolicy

SHAPES: tuple[type[Shape], ...] = (
    WarmupShape,
    EventGridSchema,
    CloudEventSchema,
    TimerInfoJson,
    CosmosDocuments,
    HostHttp,
    HostTimer,
    HostEventHub,
    HostServiceBus,
    HostQueue,
    HostBlob,
    HostCosmos,
    HostEnvelope,
    HttpRequestObject,
    BlobStream,
    EventGridObject,
    QueueMessageObject,
    ServiceBusObject,
    TimerRequestObject,
    EventHubObject,
    DocumentListObject,
)


class AzureAdapter(BaseAdapter):
    name = "azure"
    shapes: Sequence[type[Shape]] = SHAPES

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        """``function_app.py``, ``host.json``, ``requirements.txt`` and
        ``local.settings.json.example`` for ``app`` (see :mod:`corefn_azure.generator`)."""
        from corefn_azure.generator import generate

        return generate(app, app_ref)

    def bind(self, event: Event, target: Target) -> Event:
        """Binding objects do not name their queue, hub or container, nor say whether a Service
        Bus message came from a topic: the declaration does (see :mod:`corefn_azure._bind`)."""
        from corefn_azure._bind import bind

        return bind(event, target)

    #: the Functions project root: ``function_app.py`` and the vendored code sit side by side
    bundle_root = "."

    def compile_policy(self, app: App, policy: RetryPolicy) -> CompiledPolicy:
        """The retry policy in Azure's terms (see :mod:`corefn_azure.policy`)."""
        from corefn_azure.policy import compile_policy

        return compile_policy(app, policy)

    def sample(self, trigger: str) -> Any:
        """A realistic payload for ``corefn event azure TRIGGER`` (see ``samples/``)."""
        from corefn.adapters import load_sample

        return load_sample("corefn_azure.samples", self.name, trigger)


    def dead_letters(self, where: Mapping[str, str]) -> Any:
        """The optional dead-letter hook (:mod:`corefn.deadletters`): ``corefn dead --cloud azure``."""
        from corefn_azure.deadletters import open_dead_letters

        return open_dead_letters(where)

adapter = AzureAdapter()

__all__ = ["SHAPES", "AzureAdapter", "adapter"]
