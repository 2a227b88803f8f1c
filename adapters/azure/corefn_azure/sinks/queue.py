"""Azure Queue Storage as a publisher (azure-storage-queue).

URL: ``azqueue://queue`` or ``azqueue://account/queue`` (credentials as in the package
docstring). The queue must exist (deploy creates it).

Messages are sent base64-encoded, because that is what the Functions host's queue trigger
expects by default (``host.json`` ``extensions.queues.messageEncoding`` = ``base64``): a
handler declared with ``@app.queue`` then gets the exact bytes that were sent. Queue Storage
caps a message at 64 KiB of base64 text, so a body may be at most 48 KiB; larger bodies are
refused before sending (put the payload in an object store and send its key).

Queue Storage messages have no attributes and no ordering: sending attributes raises
ConfigurationError (use ``servicebus://`` when you need them) and ``group`` is accepted but
has no effect, as the service delivers in no guaranteed order anyway. There is no batch API:
``send_batch`` sends one request per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from corefn.errors import ConfigurationError, SinkError
from corefn.kit.sinks import Body, body_bytes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_azure.sinks import STORAGE_RETRY, StorageTarget, azure_errors, sdk_required

MAX_BODY = 48 * 1024  # 64 KiB of base64


class QueuePublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from azure.storage.queue import BinaryBase64EncodePolicy, ExponentialRetry, QueueClient

        self.spec = spec
        self.target = StorageTarget.parse(url)
        self._queue = self.target.client(
            QueueClient, "queue", message_encode_policy=BinaryBase64EncodePolicy(), retry_policy=ExponentialRetry(**STORAGE_RETRY)
        )

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        scope = StorageTarget.parse(url).scope("queue", "queues")
        return [Permission("azure", ("Storage Queue Data Message Sender",), scope)]

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        if attributes:
            raise ConfigurationError(
                f"sink {self.spec.name!r}: Queue Storage messages carry no attributes; use a servicebus:// queue for them"
            )
        data = body_bytes(body)
        if len(data) > MAX_BODY:
            raise SinkError(self.spec.name, f"a Queue Storage message body is at most {MAX_BODY} bytes, got {len(data)}")
        with azure_errors(self.spec.name):
            return str(self._queue.send_message(data).id)

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        return [self.send(body, attributes) for body in bodies]


def open_backend(spec: SinkSpec, url: str) -> QueuePublisher:
    with sdk_required():
        return QueuePublisher(spec, url)
