"""SQS dead-letter queues for ``corefn dead APP ... --cloud aws --queue URL``.

What SQS allows, and what it does not (docs.aws.amazon.com/AWSSimpleQueueService/latest/
SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html):

- **redrive** is SQS's own *message move task* (``StartMessageMoveTask``): it moves every message
  of the DLQ back to the queues they came from, or to ``--to`` (a queue URL or ARN), in the
  background, and ``ListMessageMoveTasks`` reports progress. It cannot pick messages: no redrive
  of chosen ids.
- **list** peeks with ``ReceiveMessage`` and a zero visibility timeout: the messages stay in the
  queue, but each look counts as a receive (``ApproximateReceiveCount`` grows).
- **show** one message by id: SQS has no such call (``ReceiveMessage`` returns messages it picks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from corefn.deadletters import CloudDeadLetter, Redriven, refuse
from corefn.errors import ConfigurationError
from corefn_aws.sinks._aws import aws_errors, client

SUPPORTS: Mapping[str, str | None] = {
    "count": None,
    "list": None,
    "show": "SQS reads no message by id (ReceiveMessage returns the messages it picks)",
    "redrive": None,
    "redrive_ids": "SQS's message move task moves the whole queue; it selects no messages",
    "redrive_to": None,
}


def arn_of(url: str) -> str:
    """``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`` → ``arn:aws:sqs:REGION:ACCOUNT:NAME``
    (an ARN is returned as is). Endpoints of emulators are asked for the ARN instead."""
    if url.startswith("arn:"):
        return url
    with aws_errors("dead-letter queue"):
        attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


class SqsDeadLetters:
    cloud: ClassVar[str] = "aws"
    supports: ClassVar[Mapping[str, str | None]] = SUPPORTS

    def __init__(self, where: Mapping[str, str]) -> None:
        self.url = where.get("queue")

    @property
    def queue_url(self) -> str:
        if not self.url:
            raise ConfigurationError("--cloud aws needs --queue URL (the dead-letter queue's URL)")
        return self.url

    def count(self) -> int | None:
        with aws_errors("dead-letter queue"):
            attributes = client("sqs").get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def peek(self, limit: int = 10) -> list[CloudDeadLetter]:
        found: dict[str, CloudDeadLetter] = {}
        with aws_errors("dead-letter queue"):
            for _ in range(max(1, (limit + 9) // 10)):
                answer = client("sqs").receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, limit - len(found)), VisibilityTimeout=0,
                    WaitTimeSeconds=0, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                for m in messages:
                    found.setdefault(m["MessageId"], _letter(m))
                if not messages or len(found) >= limit:
                    break
        return list(found.values())[:limit]

    def show(self, id: str) -> CloudDeadLetter:
        raise refuse(self, "show")

    def redrive(self, ids: list[str] | None = None, to: str | None = None) -> Redriven:
        if ids:
            raise refuse(self, "redrive_ids")
        request: dict[str, Any] = {"SourceArn": arn_of(self.queue_url)}
        if to:
            request["DestinationArn"] = arn_of(to)
        with aws_errors("dead-letter queue"):
            handle = client("sqs").start_message_move_task(**request)["TaskHandle"]
        where = f"to {request['DestinationArn']}" if to else "to the queues they came from"
        return Redriven(None, f"message move task started {where} (TaskHandle {handle}); progress: aws sqs list-message-move-tasks --source-arn {request['SourceArn']}")


def _letter(message: Mapping[str, Any]) -> CloudDeadLetter:
    system = message.get("Attributes", {})
    sent = system.get("SentTimestamp")
    enqueued = datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat().replace("+00:00", "Z") if sent else None
    attributes = {k: str(v.get("StringValue", "")) for k, v in message.get("MessageAttributes", {}).items()}
    count = system.get("ApproximateReceiveCount")
    return CloudDeadLetter(str(message["MessageId"]), str(message.get("Body", "")), int(count) if count else None, enqueued, None, attributes)


def open_dead_letters(where: Mapping[str, str]) -> SqsDeadLetters:
    return SqsDeadLetters(where)
