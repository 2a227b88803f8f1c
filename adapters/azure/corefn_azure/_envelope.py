"""The last word on host envelopes: one whose metadata names no trigger corefn reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events import Event
from corefn.kit import PayloadShape
from corefn_azure._common import PROVIDER, is_envelope

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


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
