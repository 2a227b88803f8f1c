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
sends a custom handler (see :mod:`corefn_azure._envelope`). JSON without any Azure signature (a bare
Event Hubs body array, plain objects) is not claimed: with ``--cloud azure`` it is a direct
invoke, as the core's detection rules say.
"""

from __future__ import annotations

from corefn.adapters import Shape, WarmupShape
from corefn.kit import Provider, lazy
from corefn_azure._envelope import HostEnvelope
from corefn_azure.http import HostHttp, HttpRequestObject
from corefn_azure.nosql import CosmosDocuments, DocumentListObject, HostCosmos
from corefn_azure.queue import HostQueue, HostServiceBus, QueueMessageObject, ServiceBusObject
from corefn_azure.storage import BlobStream, CloudEventSchema, EventGridObject, EventGridSchema, HostBlob
from corefn_azure.stream import EventHubObject, HostEventHub
from corefn_azure.timer import HostTimer, TimerInfoJson, TimerRequestObject

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


adapter = Provider(
    "azure",
    SHAPES,
    generator="corefn_azure.generator",  # function_app.py, host.json, requirements.txt, ARM templates
    samples="corefn_azure.samples",
    # binding objects do not name their queue, hub or container, nor say whether a Service Bus
    # message came from a topic: the declaration does (corefn_azure._bind)
    bind=lazy("corefn_azure._bind", "bind"),
    compile_policy=lazy("corefn_azure.policy", "compile_policy"),
    dead_letters=lazy("corefn_azure.deadletters", "open_dead_letters"),  # corefn dead --cloud azure
    bundle_root=".",  # function_app.py and the vendored code sit side by side
    deploys_flows=True,  # orchestrators and activities in the function app (corefn_azure._flow_functions)
    start_flow=lazy("corefn_azure._flow_start", "start_flow"),  # through the function's Durable client
)

__all__ = ["SHAPES", "adapter"]
