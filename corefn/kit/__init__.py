"""The adapter kit: what a provider's package imports from corefn to declare itself
(:class:`Provider`, :mod:`corefn.kit.provider`), to read its payloads (this module) and to write
its sink backends (:mod:`corefn.kit.sinks`). Everything here is public and
stable; every other module an adapter could reach (``corefn.sinks._errors``, ``corefn.dispatch``
...) is private to corefn and may change (httpx's split: private internals, a curated surface).

A payload shape is one small class (Mangum's ``handlers/``)::

    class SqsBatch(PayloadShape):
        provider = "mycloud"
        name = "queue-batch"          # what `corefn inspect` prints
        kind = "queue"                # the corefn event kind it produces
        failure = Failure.PARTIAL     # how the cloud learns that a record failed

        @classmethod
        def matches(cls, raw): ...    # the payload's signature: cheap, never raises
        def to_events(self): ...      # self.raw, read with self.reader (errors name the field)
        def to_response(self, result): ...

:class:`PayloadShape` keeps ``raw``, builds the :class:`~corefn.payload.Reader` whose errors name
the provider, the shape and the field, and declares as data how its cloud answers a failed
handler (:class:`Failure`); a shape whose cloud learns of failures by an exception needs no
``to_response`` at all.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar

from corefn.dispatch import raise_first_failure
from corefn.errors import EventShapeError
from corefn.events.base import Event
from corefn.kit.provider import Generator, Provider, Shape, Target, lazy, load_sample
from corefn.payload import Reader

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


class Failure(enum.Enum):
    """How a cloud learns that a handler failed, so that the message is retried or
    dead-lettered and never dropped. Each shape names its cloud's rule for its trigger."""

    #: the platform retries only when the invocation raises (Azure's non-HTTP triggers, Google's
    #: event functions, Lambda's S3 / SNS / EventBridge async invokes): raise the first failure
    RAISE = "raise"
    #: the answer names the failed records and the rest count as done (Lambda's
    #: ``batchItemFailures`` for SQS, Kinesis and DynamoDB Streams)
    PARTIAL = "partial"
    #: the answer is a value that says "failed" (an HTTP 500, an OpenWhisk activation's
    #: ``{"error": ...}``, an Azure custom-handler host response)
    RESULT = "result"


class PayloadShape:
    """The base of one payload shape of one provider (see the module docstring).

    Subclasses set ``provider``, ``name``, ``kind`` and, unless their cloud answers failures by
    an exception, ``failure`` and ``to_response``. ``reader`` is built once per class, when the
    class is defined (a Reader holds only the two names): building one per payload cost ~0.7 µs
    on every request."""

    provider: ClassVar[str] = ""
    name: ClassVar[str]
    kind: ClassVar[str]
    failure: ClassVar[Failure] = Failure.RAISE
    #: the Reader for this shape: its errors say ``<provider> <shape>: field ...``
    reader: ClassVar[Reader]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = getattr(cls, "name", None)
        if isinstance(name, str):
            cls.reader = Reader(cls.provider, name)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    @classmethod
    def matches(cls, raw: Any) -> bool:
        """Whether ``raw`` carries this shape's signature. Cheap, and never raises: detection
        walks every shape of every adapter. The base claims nothing, so a shape without a
        signature of its own is used only when named (``--shape``, a generated entry point)."""
        return False

    def to_events(self) -> list[Event]:
        raise NotImplementedError

    def to_response(self, result: DispatchResult) -> Any:
        """The provider's answer. By default the :class:`Failure.RAISE` answer: nothing when every
        handler succeeded, else the first failed handler's own exception, re-raised."""
        if self.failure is not Failure.RAISE:
            raise NotImplementedError(f"{type(self).__name__} answers failures by {self.failure.value}: write to_response")
        return raise_first_failure(result)


__all__ = [
    "EventShapeError", "Failure", "Generator", "PayloadShape", "Provider", "Reader", "Shape", "Target", "lazy", "load_sample",
    "raise_first_failure",
]  # fmt: skip
