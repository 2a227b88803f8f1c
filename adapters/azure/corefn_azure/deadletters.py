"""Queue Storage poison queues for ``corefn dead APP ... --cloud azure --queue NAME``.

The Functions host moves a queue message that failed ``maxDequeueCount`` times (5 by default) to
``<queue>-poison`` (learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-
trigger#poison-messages). ``--queue`` names the poison queue (``orders-poison``) or the queue
itself (``orders``: its poison queue is meant); ``azqueue://ACCOUNT/NAME`` names another account.
Credentials as for ``azqueue://`` sinks.

What Queue Storage allows: **count** (``approximate_message_count``), **list** (Peek Messages,
which leaves messages untouched, at most 32), **show** by id only among the 32 oldest (there is
no Get Message by id), **redrive** of all or of chosen ids to the original queue or ``--to``
(there is no server-side move: each message is received, sent to the target, then deleted from
the poison queue — a crash in between leaves a copy in both, never none).

Service Bus dead-letter subqueues are not offered here yet: no Service Bus emulator runs in this
project's tests, and an untested redrive is not shipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from corefn.deadletters import CloudDeadLetter, Redriven, refuse
from corefn.errors import ConfigurationError
from corefn_azure.sinks import STORAGE_RETRY, StorageTarget, azure_errors

SUPPORTS: Mapping[str, str | None] = {
    "count": None,
    "list": None,
    "show": None,
    "redrive": None,
    "redrive_ids": None,
    "redrive_to": None,
}

POISON_SUFFIX = "-poison"
PEEK_LIMIT = 32  # Peek Messages' numofmessages maximum
#: seconds a received message stays hidden while it is copied (a crash makes it reappear)
MOVE_VISIBILITY = 30


class PoisonQueue:
    cloud: ClassVar[str] = "azure"
    supports: ClassVar[Mapping[str, str | None]] = SUPPORTS

    def __init__(self, where: Mapping[str, str]) -> None:
        self.name = where.get("queue")

    def _target(self, name: str) -> StorageTarget:
        return StorageTarget.parse(name if "://" in name else f"azqueue://{name}")

    @property
    def poison(self) -> StorageTarget:
        if not self.name:
            raise ConfigurationError("--cloud azure needs --queue NAME (the queue or its -poison queue)")
        target = self._target(self.name)
        if not target.resource.endswith(POISON_SUFFIX):
            target = StorageTarget(target.scheme, target.resource + POISON_SUFFIX, target.account)
        return target

    def _client(self, target: StorageTarget) -> Any:
        from azure.storage.queue import (
            BinaryBase64DecodePolicy,
            BinaryBase64EncodePolicy,
            ExponentialRetry,
            QueueClient,
        )

        return target.client(
            QueueClient, "queue", message_encode_policy=BinaryBase64EncodePolicy(),
            message_decode_policy=BinaryBase64DecodePolicy(), retry_policy=ExponentialRetry(**STORAGE_RETRY),
        )

    def count(self) -> int | None:
        with azure_errors(self.poison.resource):
            return int(self._client(self.poison).get_queue_properties().approximate_message_count or 0)

    def peek(self, limit: int = 10) -> list[CloudDeadLetter]:
        with azure_errors(self.poison.resource):
            messages = self._client(self.poison).peek_messages(max_messages=min(limit, PEEK_LIMIT))
        return [_letter(m) for m in messages]

    def show(self, id: str) -> CloudDeadLetter:
        for letter in self.peek(PEEK_LIMIT):
            if letter.id == id:
                return letter
        raise ConfigurationError(f"no message {id!r} among the {PEEK_LIMIT} oldest of {self.poison.resource} (Queue Storage reads no message by id)")

    def redrive(self, ids: list[str] | None = None, to: str | None = None) -> Redriven:
        poison = self.poison
        if to is None:
            destination = StorageTarget(poison.scheme, poison.resource[: -len(POISON_SUFFIX)], poison.account)
        else:
            destination = self._target(to)
        source, target = self._client(poison), self._client(destination)
        wanted = set(ids) if ids else None
        moved = 0
        seen: set[str] = set()
        others: list[Any] = []  # received but not asked for: hidden until the end, then shown again
        with azure_errors(poison.resource):
            try:
                while True:
                    batch = list(source.receive_messages(messages_per_page=32, visibility_timeout=MOVE_VISIBILITY, max_messages=32))
                    if not batch:
                        break
                    others.extend(batch)  # until moved: shown again if anything fails
                    for message in batch:
                        seen.add(message.id)
                        if wanted is not None and message.id not in wanted:
                            continue
                        target.send_message(message.content)
                        source.delete_message(message)
                        others.remove(message)
                        moved += 1
            finally:
                for message in others:
                    source.update_message(message, visibility_timeout=0)
        missing = sorted(wanted - seen) if wanted is not None else []
        note = f"; not found: {', '.join(missing)}" if missing else ""
        return Redriven(moved, f"moved {moved} message(s) from {poison.resource} to {destination.resource}{note}")


def _letter(message: Any) -> CloudDeadLetter:
    content = message.content
    body = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    inserted = message.inserted_on.isoformat().replace("+00:00", "Z") if message.inserted_on else None
    return CloudDeadLetter(str(message.id), body, int(message.dequeue_count or 0), inserted)


SERVICE_BUS_WHY = (
    "Service Bus dead-letter subqueues are not supported by this corefn yet"
    " (no Service Bus emulator in its tests; use Service Bus Explorer in the Azure portal)"
)


class ServiceBusDeadLetters:
    """``--queue servicebus://NAMESPACE/QUEUE``: said plainly, not half done."""

    cloud: ClassVar[str] = "azure"
    supports: ClassVar[Mapping[str, str | None]] = dict.fromkeys(SUPPORTS, SERVICE_BUS_WHY)

    def count(self) -> int | None:
        raise refuse(self, "count")

    def peek(self, limit: int = 10) -> list[CloudDeadLetter]:
        raise refuse(self, "list")

    def show(self, id: str) -> CloudDeadLetter:
        raise refuse(self, "show")

    def redrive(self, ids: list[str] | None = None, to: str | None = None) -> Redriven:
        raise refuse(self, "redrive")


def open_dead_letters(where: Mapping[str, str]) -> PoisonQueue | ServiceBusDeadLetters:
    if (where.get("queue") or "").startswith("servicebus://"):
        return ServiceBusDeadLetters()
    return PoisonQueue(where)


__all__ = ["SUPPORTS", "PoisonQueue", "ServiceBusDeadLetters", "open_dead_letters"]
