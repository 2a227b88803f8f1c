"""SQS messages (standard and FIFO) and SNS notifications.

SQS (poll-based): Lambda deletes every message of the batch unless the answer lists it in
``batchItemFailures`` (with ``ReportBatchItemFailures`` on the event source mapping). Failed
messages become visible again and, after ``maxReceiveCount`` receives, move to the queue's
dead-letter queue. ``ApproximateReceiveCount`` starts at 1, so it is ``attempt`` as is.

FIFO queues deliver each message group in order; a failed message must hold back the rest of
its group, or a retry would overtake them. The dispatcher does not run them and reports them
failed (for every handler: FIFO semantics are the queue's, not the handler's), so the answer is
simply every failed outcome.

SNS (asynchronous): Lambda only learns of a failure from an exception, then retries and sends
the event to the function's on-failure destination.

Message attributes become ``attributes`` (name → string): ``stringValue`` for String and
Number types, the base64 ``binaryValue`` for Binary ones (SNS sends ``Value`` either way).
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, QueueMessage, TopicMessage
from corefn.payload import Reader
from corefn_aws._common import RecordSource, arn_name, batch_failures, epoch_seconds, raise_if_failed, records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


def _sqs_attributes(r: Reader, record: dict[str, Any], at: str) -> dict[str, str]:
    out = {}
    for name, attr in r.opt_dict(record, "messageAttributes", at=at).items():
        if not isinstance(attr, dict):
            raise r.error(f"{at}.messageAttributes.{name}", "should be an object")
        value = attr.get("stringValue")
        if value is None:
            value = attr.get("binaryValue")
        if not isinstance(value, str):
            raise r.error(f"{at}.messageAttributes.{name}.stringValue", "is missing")
        out[name] = value
    return out


def _epoch_ms(value: Any) -> Any:
    """SQS attributes carry epoch milliseconds as strings."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a time")
    return epoch_seconds(int(value) / 1000)


class Sqs(RecordSource):
    name: ClassVar[str] = "sqs"
    kind: ClassVar[str] = "queue"
    signature: ClassVar[tuple[str, str]] = ("eventSource", "aws:sqs")

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            at = f"Records[{i}]"
            attributes = r.opt_dict(record, "attributes", at=at)
            sent = attributes.get("SentTimestamp")
            events.append(
                QueueMessage(
                    queue=arn_name(r.str(record, "eventSourceARN", at=at)),
                    id=r.str(record, "messageId", at=at),
                    body=Body(r.str(record, "body", at=at)),
                    attributes=_sqs_attributes(r, record, at),
                    attempt=r.opt_int(attributes, "ApproximateReceiveCount", at=f"{at}.attributes"),
                    time=None if sent is None else r.convert(sent, _epoch_ms, f"{at}.attributes.SentTimestamp", "epoch ms"),
                    group=r.opt_str(attributes, "MessageGroupId", at=f"{at}.attributes"),
                    dedup_id=r.opt_str(attributes, "MessageDeduplicationId", at=f"{at}.attributes"),
                    raw=record,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> Any:
        return batch_failures([str(o.event.id) for o in result.failed], result)


class Sns(RecordSource):
    name: ClassVar[str] = "sns"
    kind: ClassVar[str] = "topic"
    signature: ClassVar[tuple[str, str]] = ("EventSource", "aws:sns")

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            at = f"Records[{i}].Sns"
            sns = r.dict(record, "Sns", at=f"Records[{i}]")
            attributes = {}
            for name, attr in r.opt_dict(sns, "MessageAttributes", at=at).items():
                attributes[name] = r.str(attr, "Value", at=f"{at}.MessageAttributes.{name}")
            events.append(
                TopicMessage(
                    topic=arn_name(r.str(sns, "TopicArn", at=at)),
                    id=r.str(sns, "MessageId", at=at),
                    body=Body(r.str(sns, "Message", at=at)),
                    attributes=attributes,
                    attempt=None,  # SNS does not say which delivery attempt this is
                    time=r.time(sns, "Timestamp", at=at),
                    group=r.opt_str(sns, "MessageGroupId", at=at),
                    raw=record,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> Any:
        raise_if_failed(result)
        return None
