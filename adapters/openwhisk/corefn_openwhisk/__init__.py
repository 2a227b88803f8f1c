"""corefn's OpenWhisk adapter (Apache OpenWhisk): every trigger in, the
answers OpenWhisk expects out, and the action code plus a wskdeploy manifest.

An OpenWhisk action receives one flat ``params`` dict whatever invoked it, so detection is the
hard part and is explicit. Shape names (what ``corefn inspect`` prints as ``shape``), in
detection order; the first whose signature matches owns the payload, and a payload that carries
a signature but is malformed is an EventShapeError, never an invoke:

========  =======  ==========================================================================
shape     kind     signature
========  =======  ==========================================================================
warmup    –        ``{"corefn": "warmup"}`` / ``{"source": "serverless-plugin-warmup"}``
web       http     ``__ow_method`` key (web action; raw mode also has ``__ow_query``)
alarm     timer    ``corefn_timer`` key: the marker corefn's manifest puts in every alarm's
                   ``trigger_payload`` (the alarms feed fires that payload and nothing else)
cos       storage  ``notification.event_type`` starting with ``Object:`` (IBM COS feed)
kafka     stream   non-empty ``messages`` list whose first item has topic/partition/offset
cloudant  nosql    ``id`` + ``seq`` + a ``changes`` list (Cloudant changes feed)
========  =======  ==========================================================================

Not detected but chosen by the runtime for the action it serves: a web request to a storage
handler's action is a MinIO-style bucket notification (``s3-webhook``, :mod:`.storage`), and a
Kafka batch to a queue handler's action becomes queue messages (the bind step, :mod:`._bind`).

Everything else is a direct invoke — but only where the cloud is known: ``corefn inspect
--cloud openwhisk`` or, at run time, an action whose app declares an invoke handler
(:mod:`corefn_openwhisk.invoke`). Without ``--cloud``, arbitrary JSON is never guessed to be
an OpenWhisk invoke. The signatures are strict enough that no AWS, Azure or GCP payload matches
one (tested over every shared sample), so ``--cloud openwhisk`` on another cloud's payload is a
WrongCloudError rather than a silent misreading as an invoke.

Known blind spot, by construction: an alarm created without corefn's markers (OpenWhisk's own
``{"name": "Odin", "place": "Asgard"}`` sample) is indistinguishable from an invoke; it is read as
one. Generate alarms with ``corefn deploy`` so they carry the markers.

Importing this package imports no cloud SDK (the IBM sinks import theirs when first used).
"""

from __future__ import annotations

from corefn.adapters import Shape, WarmupShape
from corefn.kit import Provider, lazy
from corefn_openwhisk._bind import bind
from corefn_openwhisk.http import WebAction
from corefn_openwhisk.nosql import CloudantChange
from corefn_openwhisk.storage import CosNotification
from corefn_openwhisk.stream import KafkaMessages
from corefn_openwhisk.timer import Alarm

SHAPES: tuple[type[Shape], ...] = (WarmupShape, WebAction, Alarm, CosNotification, KafkaMessages, CloudantChange)


adapter = Provider(
    "openwhisk",
    SHAPES,
    generator="corefn_openwhisk.generator",  # manifest.yaml, actions/<action>/, build.sh, deploy.sh, README.md; the zips
    samples="corefn_openwhisk.samples",
    bind=bind,  # a Kafka record for a queue handler becomes its message, attempt counted by corefn
    compile_policy=lazy("corefn_openwhisk.policy", "compile_policy"),  # what OpenWhisk (does not) retry, what corefn does
    bundle_root="src",  # the vendored code every action's zip is built from (corefn_openwhisk.build)
    # each flow is a conductor action beside its steps' actions (corefn_openwhisk.conductor);
    # ctx.start_flow invokes it through the controller's REST API
    deploys_flows=True,
    start_flow=lazy("corefn_openwhisk.conductor", "start_flow"),
    build_bundle=lazy("corefn_openwhisk.generator", "build_bundle"),  # every action's zip, size-checked
)

__all__ = ["SHAPES", "adapter"]
