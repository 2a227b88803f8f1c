"""SQS dead-letter queues for ``corefn dead APP ... --cloud aws --queue URL``.

What SQS allows, and what it does not (docs.aws.amazon.com/AWSSimpleQueueService/latest/
SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html):

- **redrive** of the whole queue is SQS's own *message move task* (``StartMessageMoveTask``): it
  moves every message of the DLQ back to the queues they came from, or to ``--to`` (a queue URL or
  ARN), in the background, and ``ListMessageMoveTasks`` reports progress. The task cannot pick
  messages, so **redrive of chosen ids** is done here: the DLQ is received through (each message
  hidden for :data:`MOVE_VISIBILITY` seconds), the chosen ones are sent to ``--to`` or to the queue
  their ``DeadLetterQueueSourceArn`` attribute names and deleted from the DLQ (a crash in between
  leaves a copy in both, never none), the others are made visible again.
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
    "redrive_ids": None,
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


MOVE_VISIBILITY = 60
SOURCE_ATTRIBUTE = "DeadLetterQueueSourceArn"


def queue_url_of(arn_or_url: str) -> str:
    """A queue URL from an ARN (``GetQueueUrl`` with the name and owner); URLs pass through."""
    if not arn_or_url.startswith("arn:"):
        return arn_or_url
    parts = arn_or_url.split(":")
    if len(parts) != 6:
        raise ConfigurationError(f"{arn_or_url!r} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
    with aws_errors("dead-letter queue"):
        answer = client("sqs", region=parts[3] or None).get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
    return str(answer["QueueUrl"])


def destination_of(message: Mapping[str, Any], to: str | None) -> str:
    """Where a chosen message goes: ``--to``, else the queue SQS says it came from."""
    if to:
        return to
    source = message.get("Attributes", {}).get(SOURCE_ATTRIBUTE)
    if not source:
        raise ConfigurationError(f"message {message.get('MessageId')} does not say which queue it came from ({SOURCE_ATTRIBUTE}); give --to QUEUE_URL")
    return str(source)


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
            return self._move_chosen(set(ids), to)
        request: dict[str, Any] = {"SourceArn": arn_of(self.queue_url)}
        if to:
            request["DestinationArn"] = arn_of(to)
        with aws_errors("dead-letter queue"):
            handle = client("sqs").start_message_move_task(**request)["TaskHandle"]
        where = f"to {request['DestinationArn']}" if to else "to the queues they came from"
        return Redriven(None, f"message move task started {where} (TaskHandle {handle}); progress: aws sqs list-message-move-tasks --source-arn {request['SourceArn']}")


    def _move_chosen(self, wanted: set[str], to: str | None) -> Redriven:
        sqs = client("sqs")
        moved: list[str] = []
        held: dict[str, str] = {}  # received and not moved: message id → receipt handle, shown again at the end
        urls: dict[str, str] = {}
        with aws_errors("dead-letter queue"):
            try:
                while wanted - set(moved) - set(held):
                    batch = sqs.receive_message(
                        QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=MOVE_VISIBILITY,
                        WaitTimeSeconds=0, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
                    ).get("Messages", [])
                    fresh = [m for m in batch if m["MessageId"] not in held and m["MessageId"] not in moved]
                    if not fresh:
                        break
                    held.update((m["MessageId"], m["ReceiptHandle"]) for m in fresh)  # before anything can fail
                    for m in fresh:
                        if m["MessageId"] not in wanted:
                            continue
                        target = destination_of(m, to)
                        url = urls.setdefault(target, queue_url_of(target))
                        send: dict[str, Any] = {"QueueUrl": url, "MessageBody": m["Body"]}
                        if m.get("MessageAttributes"):
                            send["MessageAttributes"] = m["MessageAttributes"]
                        sqs.send_message(**send)
                        sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=held.pop(m["MessageId"]))
                        moved.append(m["MessageId"])
            finally:  # whatever happened, what was not moved is visible again at once
                for handle in held.values():
                    sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        missing = sorted(wanted - set(moved))
        note = f"; not found: {', '.join(missing)}" if missing else ""
        return Redriven(len(moved), f"moved {len(moved)} message(s) to {', '.join(sorted(urls)) or 'nowhere'}{note}")


def _letter(message: Mapping[str, Any]) -> CloudDeadLetter:
    system = message.get("Attributes", {})
    sent = system.get("SentTimestamp")
    enqueued = datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat().replace("+00:00", "Z") if sent else None
    attributes = {k: str(v.get("StringValue", "")) for k, v in message.get("MessageAttributes", {}).items()}
    count = system.get("ApproximateReceiveCount")
    return CloudDeadLetter(str(message["MessageId"]), str(message.get("Body", "")), int(count) if count else None, enqueued, None, attributes)


def open_dead_letters(where: Mapping[str, str]) -> SqsDeadLetters:
    return SqsDeadLetters(where)
