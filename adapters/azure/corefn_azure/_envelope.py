"""The last word on host envelopes: one whose metadata names no trigger corefn reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events import Event
from corefn.payload import Reader
from corefn_azure._common import PROVIDER, is_envelope

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


class HostEnvelope:
    """An object of exactly ``Data`` and ``Metadata`` carries the Functions host's signature;
    if no specific host shape claimed it, it is malformed, never a direct invoke."""

    name: ClassVar[str] = "host-envelope"
    kind: ClassVar[str] = "invoke"
    _r = Reader(PROVIDER, name)

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_envelope(raw)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        r, raw = self._r, self.raw
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
