"""``sns://topic`` — a publisher on Amazon SNS.

URL: ``sns://alerts`` (the topic in the function's account and region: its ARN is built once
from ``sts:GetCallerIdentity``, which needs no permission) or ``sns://arn:aws:sns:REGION:ACCOUNT:alerts``
(no lookup at all; use it across accounts). ``?region=`` overrides the region. A topic name
ending in ``.fifo`` is a FIFO topic (``group`` → ``MessageGroupId``, plus a deduplication id).

Bodies are text (JSON for dicts and lists); attributes become String ``MessageAttributes``,
which reach SQS subscribers with raw message delivery as SQS message attributes. ``send_batch``
uses ``PublishBatch`` in chunks of 10.
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


def _topic_of(url: str) -> tuple[str, str | None, dict[str, str]]:
    """(topic name, ARN if the URL gives one, query)."""
    rest = url.partition("://")[2]
    if rest.startswith("arn:"):
        arn, _, query = rest.partition("?")
        _, _, params = url_parts(f"sns://x?{query}", "sns")
        return arn.rsplit(":", 1)[-1], arn, params
    name, _, params = url_parts(url, "sns")
    return name, None, params


class SnsPublisher:
    """A :class:`~corefn.sinks.base.Publisher` to one SNS topic."""

    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.topic, self._arn, query = _topic_of(url)
        self.region = query.get("region") or (self._arn.split(":")[3] if self._arn else None)
        self.fifo = self.topic.endswith(".fifo")
        self.dedup = str(spec.options.get("dedup") or "random")
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return client("sns", region=self.region)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        topic, arn, _ = _topic_of(url)
        return [Permission("aws", ("sns:Publish",), arn or f"arn:aws:sns:*:*:{topic}")]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    @property
    def topic_arn(self) -> str:
        if self._arn is None:
            with self._lock, aws_errors(self.name):
                if self._arn is None:
                    sts = client("sts", region=self.region)
                    account = sts.get_caller_identity()["Account"]
                    region = self.client.meta.region_name
                    partition = self.client.meta.partition
                    self._arn = f"arn:{partition}:sns:{region}:{account}:{self.topic}"
        return self._arn

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        text = body_text(body, self.name, "SNS")
        request: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": text, **fifo_fields(self.fifo, group, text, self.dedup)}
        attrs = message_attributes(attributes, self.name)
        if attrs:
            request["MessageAttributes"] = attrs
        with aws_errors(self.name):
            return str(self.client.publish(**request)["MessageId"])

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        entries = batch_entries(bodies, attributes, self.name, "SNS", "Message", self.fifo, self.dedup)
        return send_in_batches(
            self.name, entries, lambda chunk: self.client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=chunk)
        )


def open_backend(spec: SinkSpec, url: str) -> SnsPublisher:
    return SnsPublisher(spec, url)
