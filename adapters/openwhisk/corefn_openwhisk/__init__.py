"""corefn's OpenWhisk adapter (Apache OpenWhisk, IBM Cloud Functions): every trigger in, the
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

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corefn.adapters import BaseAdapter, Shape, WarmupShape
from corefn_openwhisk.http import WebAction
from corefn_openwhisk.nosql import CloudantChange
from corefn_openwhisk.storage import CosNotification
from corefn_openwhisk.stream import KafkaMessages
from corefn_openwhisk.timer import Alarm

if TYPE_CHECKING:
    from corefn.app import App

SHAPES: tuple[type[Shape], ...] = (WarmupShape, WebAction, Alarm, CosNotification, KafkaMessages, CloudantChange)


class OpenWhiskAdapter(BaseAdapter):
    name = "openwhisk"
    shapes: Sequence[type[Shape]] = SHAPES

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        """``manifest.yaml`` (wskdeploy), ``actions/<action>/__main__.py`` and ``build.sh``."""
        from corefn_openwhisk.generator import generate

        return generate(app, app_ref)

    def sample(self, trigger: str) -> Any:
        """A realistic payload for ``corefn event openwhisk TRIGGER`` (see ``samples/``)."""
        from corefn.adapters import load_sample

        return load_sample("corefn_openwhisk.samples", self.name, trigger)


adapter = OpenWhiskAdapter()

__all__ = ["SHAPES", "OpenWhiskAdapter", "adapter"]
