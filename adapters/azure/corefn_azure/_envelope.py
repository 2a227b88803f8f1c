"""The envelope Azure's JSON deliveries arrive in, read once for all trigger families: the
Functions host's custom-handler request ``{"Data": {<binding>: value}, "Metadata": {<trigger
metadata>}}`` (https://learn.microsoft.com/en-us/azure/azure-functions/functions-custom-handlers#request-payload),
the answer the host expects back, and the last word on an envelope whose metadata names no
trigger corefn reads (:class:`HostEnvelope`). Binding objects, the Python worker's other input
world, are recognised in :mod:`corefn_azure._common`.

The metadata carries the trigger-metadata keys the Python worker's converters read
(``DequeueCount``, ``DeliveryCount``, ``PartitionContext``, ...) but not the resource's name
(queue, container, ...); an optional ``Metadata.corefn`` object may name it (``{"queue":
"orders"}``, ``{"topic": "alerts", "subscription": "audit"}``, ``{"container": "devices",
"partition_key": "/deviceId"}``): the generated ``function_app.py`` passes the same hints from the
app's declarations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.dispatch import raise_first_failure
from corefn.events import Event
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader
from corefn_azure._common import PROVIDER

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


def is_envelope(raw: Any) -> bool:
    """The host's custom-handler request: exactly the keys ``Data`` and ``Metadata``."""
    return isinstance(raw, dict) and set(raw) == {"Data", "Metadata"}


def envelope_parts(raw: Any) -> tuple[Any, dict[str, Any]] | None:
    """(trigger value, metadata) when ``raw`` is a well-typed envelope with at least one binding.
    ``Data`` holds every input binding by name; the trigger's comes first (the host's order)."""
    if not is_envelope(raw):
        return None
    data, meta = raw["Data"], raw["Metadata"]
    if not isinstance(data, dict) or not isinstance(meta, dict) or not data:
        return None
    return next(iter(data.values())), meta


def host_parts(reader: Reader, raw: Any) -> tuple[Any, dict[str, Any]]:
    """:func:`envelope_parts` for a shape that owns ``raw``. Only a payload forced onto a host
    shape with ``--shape`` lacks them, and that is a named error, not a failed unpacking."""
    parts = envelope_parts(raw)
    if parts is None:
        raise reader.error("$", "should be a Functions host envelope: exactly Data and Metadata objects, Data holding the trigger's value")
    return parts


def hints(reader: Reader, meta: dict[str, Any]) -> dict[str, Any]:
    """The optional ``Metadata.corefn`` object naming the resource (see module docstring)."""
    return reader.opt_dict(meta, "corefn", at="Metadata")


def hint(reader: Reader, meta: dict[str, Any], name: str) -> str | None:
    return reader.opt_str(hints(reader, meta), name, at="Metadata.corefn")


# ------------------------------------------------------------------------------- answers


def host_response(result: DispatchResult) -> dict[str, Any]:
    """The custom-handler answer for a non-HTTP trigger; a failure is raised, as the host would
    see a non-2xx answer and retry (and, in the end, poison or dead-letter the message)."""
    raise_first_failure(result)
    return {"Outputs": {}, "Logs": [], "ReturnValue": None}


class HostShape(PayloadShape):
    """What the non-HTTP host-envelope shapes share: they answer with :func:`host_response`,
    which raises a failure (the custom-handler runtime turns it into the non-2xx answer the
    host retries)."""

    provider: ClassVar[str] = PROVIDER
    failure: ClassVar[Failure] = Failure.RAISE

    def to_response(self, result: DispatchResult) -> Any:
        return host_response(result)


class HostEnvelope(PayloadShape):
    """An object of exactly ``Data`` and ``Metadata`` carries the Functions host's signature;
    if no specific host shape claimed it, it is malformed, never a direct invoke."""

    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "host-envelope"
    kind: ClassVar[str] = "invoke"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_envelope(raw)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        r.dict(raw, "Data")
        r.dict(raw, "Metadata")
        if not raw["Data"]:
            raise r.error("Data", "holds no binding value")
        raise r.error(
            "Metadata",
            "names no trigger corefn reads (expected DequeueCount, DeliveryCount, PartitionContext, BlobTrigger, "
            "a TimerInfo, an HTTP request or a document list)",
        )

    def to_response(self, result: DispatchResult) -> Any:  # pragma: no cover - to_events always raises
        raise NotImplementedError
