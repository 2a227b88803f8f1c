"""Dead-letter queues on a cloud: the small optional hook an adapter implements so that
``corefn dead APP ... --cloud NAME`` can count, list, show and redrive them.

Clouds differ in what their dead-letter queues allow, and the CLI says so rather than pretending:
each queue object carries :attr:`DeadLetterQueue.supports`, operation → ``None`` (supported) or the
reason it is not (e.g. SQS has no "read one message by id": ``ReceiveMessage`` hands out whatever
messages it picks and hides them for the visibility timeout).

An adapter offers the hook as its :class:`~corefn.kit.Provider`'s optional ``dead_letters``
step, ``(where: Mapping[str, str]) -> DeadLetterQueue`` (None: not offered); ``where`` holds the
CLI's ``--queue`` / ``--subscription`` / ``--to`` values.
The core imports no adapter: :func:`open_dead_letters` goes through the adapter registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from corefn.errors import ConfigurationError

#: the operations ``corefn dead`` knows, in the order it prints them
OPERATIONS = ("count", "list", "show", "redrive", "redrive_ids", "redrive_to")


@dataclass(frozen=True, slots=True)
class CloudDeadLetter:
    """One dead message as a cloud shows it (what it can say varies: ``None`` when it cannot)."""

    id: str
    body: str
    attempts: int | None = None
    enqueued: str | None = None  # ISO 8601 UTC, when the cloud says
    error: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "body": self.body, "attempts": self.attempts, "enqueued": self.enqueued,
            "error": self.error, "attributes": dict(self.attributes),
        }


@dataclass(frozen=True, slots=True)
class Redriven:
    """What a redrive did: how many messages moved (``None`` when the cloud moves them in the
    background and reports later), and a line a person can act on (a task handle, a status)."""

    moved: int | None
    detail: str


@runtime_checkable
class DeadLetterQueue(Protocol):
    """One dead-letter queue / subscription. Unsupported operations raise
    :class:`UnsupportedOperation` with the reason in :attr:`supports`."""

    cloud: ClassVar[str]
    #: operation (see :data:`OPERATIONS`) → None if supported, else why not
    supports: ClassVar[Mapping[str, str | None]]

    def count(self) -> int | None: ...
    def peek(self, limit: int = 10) -> list[CloudDeadLetter]:
        """Up to ``limit`` messages, left in the queue (the CLI's ``list``)."""
        ...
    def show(self, id: str) -> CloudDeadLetter: ...
    def redrive(self, ids: list[str] | None = None, to: str | None = None) -> Redriven: ...


class UnsupportedOperation(ConfigurationError):
    """What a cloud's dead-letter queue cannot do; the message says why (the provider's rule)."""

    def __init__(self, cloud: str, operation: str, why: str) -> None:
        self.cloud = cloud
        self.operation = operation
        super().__init__(f"{cloud}: {operation.replace('_', ' ')} is not supported: {why}")


def refuse(queue: DeadLetterQueue, operation: str) -> UnsupportedOperation:
    return UnsupportedOperation(queue.cloud, operation, queue.supports.get(operation) or "not implemented")


def open_dead_letters(cloud: str, where: Mapping[str, str]) -> DeadLetterQueue:
    """The dead-letter queue ``where`` names on ``cloud``, through the adapter's optional hook."""
    from corefn.adapters import get_adapter

    hook = get_adapter(cloud).dead_letters
    if hook is None:
        raise ConfigurationError(f"the {cloud} adapter offers no dead-letter operations")
    return hook(where)
