"""``sqs://queue-name`` — a publisher on Amazon SQS.

URL: ``sqs://orders`` (the queue in the function's account and region; its URL is looked up
once, with ``GetQueueUrl``), ``sqs://orders?account=123456789012`` for another account's queue,
``?region=`` to override the region. A name ending in ``.fifo`` is a FIFO queue: ``group``
becomes ``MessageGroupId`` and each message gets a ``MessageDeduplicationId`` (see
:func:`corefn_aws.sinks._publish.fifo_fields`); on standard queues ``group`` has no effect.

SQS bodies are text: dicts and lists are sent as JSON, bytes must be UTF-8 (base64-encode binary).
Attributes become String ``MessageAttributes`` (SQS allows 10 per message). ``send_batch`` sends
``SendMessageBatch`` calls of 10 entries; entries SQS rejects are raised as one SinkError after
the whole batch was tried (the ids of the rest are lost with the exception: resend the batch,
consumers must be idempotent anyway — SQS is at-least-once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from corefn.kit.sinks import Body, body_text
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_aws.sinks._aws import aws_errors, client, url_parts
from corefn_aws.sinks._publish import batch_entries, fifo_fields, message_attributes, send_in_batches


class SqsPublisher:
    """A :class:`~corefn.sinks.base.Publisher` to one SQS queue."""

    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.queue, _, query = url_parts(url, "sqs")
        self.account = query.get("account")
        self.region = query.get("region")
        self.fifo = self.queue.endswith(".fifo")
        self.dedup = str(spec.options.get("dedup") or "random")
        self._queue_url: str | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return client("sqs", region=self.region)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        queue, _, query = url_parts(url, "sqs")
        return [Permission("aws", ("sqs:SendMessage", "sqs:GetQueueUrl"), f"arn:aws:sqs:*:{query.get('account', '*')}:{queue}")]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    @property
    def queue_url(self) -> str:
        """Looked up once per backend (so once per process): one call on the first send only."""
        if self._queue_url is None:
            with self._lock, aws_errors(self.name):
                if self._queue_url is None:
                    request = {"QueueName": self.queue}
                    if self.account:
                        request["QueueOwnerAWSAccountId"] = self.account
                    self._queue_url = str(self.client.get_queue_url(**request)["QueueUrl"])
        return self._queue_url

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        text = body_text(body, self.name, "SQS")
        request: dict[str, Any] = {"QueueUrl": self.queue_url, "MessageBody": text, **fifo_fields(self.fifo, group, text, self.dedup)}
        attrs = message_attributes(attributes, self.name)
        if attrs:
            request["MessageAttributes"] = attrs
        with aws_errors(self.name):
            return str(self.client.send_message(**request)["MessageId"])

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        entries = batch_entries(bodies, attributes, self.name, "SQS", "MessageBody", self.fifo, self.dedup)
        return send_in_batches(
            self.name, entries, lambda chunk: self.client.send_message_batch(QueueUrl=self.queue_url, Entries=chunk)
        )


def open_backend(spec: SinkSpec, url: str) -> SqsPublisher:
    return SqsPublisher(spec, url)
