"""The adapter kit's protocols, re-exported by :mod:`corefn.kit` (``corefn.kit.Shape``,
``corefn.kit.Generator``) when first named: a ``typing.Protocol`` needs ``typing`` at run time,
and the modules every Lambda cold start imports do without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from corefn.app import App
    from corefn.dispatch import DispatchResult
    from corefn.events.base import Event


@runtime_checkable
class Shape(Protocol):
    """One payload shape of one provider (``sqs``, ``apigw-v2``, ``eventgrid-blob``, ...);
    :class:`corefn.kit.PayloadShape` is the base that implements it.

    ``kind`` is the corefn event kind it produces, or ``"warmup"`` for keep-warm pings, whose
    ``to_events`` returns no event and whose response is sent without running user code.
    """

    name: ClassVar[str]
    kind: ClassVar[str]

    @classmethod
    def matches(cls, raw: Any) -> bool:
        """Whether ``raw`` carries this shape's signature. Cheap, and never raises."""
        ...

    def __init__(self, raw: Any) -> None: ...

    def to_events(self) -> list[Event]:
        """The payload as corefn events; raises EventShapeError naming the bad field."""
        ...

    def to_response(self, result: DispatchResult) -> Any:
        """What the provider expects back after dispatch (an HTTP response dict, a partial batch
        failure report, ``None``, ...). Raise here to make the provider retry a whole batch."""
        ...


class Generator(Protocol):
    """What a generator module offers: plans first, as frozen data, then files from them
    (Chalice's split). ``plan`` raises ConfigurationError for a declaration the cloud cannot
    deploy; ``render`` is pure, so the same plans always give the same files."""

    def plan(self, app: App, app_ref: str) -> Any: ...

    def render(self, plans: Any) -> Mapping[str, str | bytes]: ...


__all__ = ["Generator", "Shape"]
