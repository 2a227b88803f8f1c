"""What every AWS shape shares: short names from ARNs, Lambda's time units, record lists, and
the two ways Lambda learns that records failed.

Lambda reports failures in two ways, by invocation type:

- poll-based sources (SQS, Kinesis, DynamoDB Streams) read ``{"batchItemFailures": [...]}``
  when the event source mapping has ``FunctionResponseTypes: [ReportBatchItemFailures]``
  (the generator always sets it);
- asynchronous sources (S3, SNS, EventBridge) only see an exception: Lambda then retries the
  whole event (twice by default) and sends it to the on-failure destination / dead-letter queue.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from corefn.dispatch import DispatchResult, Outcome
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

PROVIDER = "aws"


class RecordsFailedError(RuntimeError):
    """Raised back to Lambda for an asynchronous event (S3, SNS, EventBridge) whose handler
    failed, so that Lambda's retry and on-failure destination take over. The first handler
    error is chained as ``__cause__`` so the log shows its traceback."""

    def __init__(self, failed: list[Outcome]) -> None:
        self.failed = failed
        first = failed[0].error
        ids = ", ".join(str(o.event.id) for o in failed[:5])
        super().__init__(f"{len(failed)} record(s) failed ({ids}): {type(first).__name__}: {first}")


def raise_if_failed(result: DispatchResult) -> None:
    failed = result.failed
    if failed:
        raise RecordsFailedError(failed) from failed[0].error


def batch_failures(identifiers: Iterable[str], result: DispatchResult | None = None) -> dict[str, Any]:
    """Lambda's partial batch response (an empty list means "all done").

    Without ``ReportBatchItemFailures`` on the event source mapping, Lambda ignores this answer
    and deletes (or checkpoints past) the whole batch, failed records included. A deployment
    that cannot turn it on sets ``COREFN_AWS_BATCH_FAILURES=raise``: any failure then raises,
    and Lambda retries the whole batch instead of losing the failed records."""
    failed = list(identifiers)
    if failed and result is not None and os.environ.get("COREFN_AWS_BATCH_FAILURES") == "raise":
        raise_if_failed(result)
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


def first_failure(result: DispatchResult, identifier: str | Callable[[Any], str]) -> dict[str, Any]:
    """The partial batch response of an ordered poll-based source (Kinesis, DynamoDB Streams):
    the first failed record's ``identifier`` (an event field, or a function of the event). Lambda
    retries from the lowest reported sequence number, so reporting a later one would mark the
    records before it done."""
    for outcome in result.outcomes:
        if outcome.error is not None:
            event = outcome.event
            found = identifier(event) if callable(identifier) else getattr(event, identifier)
            return batch_failures([str(found)], result)
    return batch_failures([])


def arn_name(arn: str, marker: str = "") -> str | None:
    """The short name inside an ARN: the last ``:`` field (``arn:aws:sqs:r:a:my-queue``), or the
    path segment after ``marker`` (``table/`` in ``...:table/Orders/stream/2024...``). ``None``
    when ``arn`` is not an ARN (some published samples carry placeholders)."""
    if not arn.startswith("arn:"):
        return None
    resource = arn.split(":", 5)[-1]
    if marker:
        head, found, tail = resource.partition(marker)
        if not found:
            return None
        return tail.split("/", 1)[0] or None
    return resource.rsplit("/", 1)[-1] or None


def epoch_seconds(value: Any) -> datetime:
    """Kinesis and DynamoDB Streams give times in epoch *seconds* (with a fraction), unlike the
    epoch milliseconds of SQS attributes."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected epoch seconds, got {type(value).__name__}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"{value} is out of range: {exc}") from None


def records(reader: Reader, raw: Any, at: str = "") -> list[dict[str, Any]]:
    """``Records`` as a list of objects, each checked so a later field read names its index.
    ``at`` is where the document sits when it came wrapped (an S3 notification in an SQS body)."""
    items = reader.list(raw, "Records", at=at)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise reader.error(f"{at}.Records[{i}]" if at else f"Records[{i}]", "should be an object")
    return items


def first_record(raw: Any) -> dict[str, Any] | None:
    """``Records[0]`` when present and an object: the place every AWS record source signs."""
    if not isinstance(raw, dict):
        return None
    items = raw.get("Records")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def signed_record(raw: Any, key: str, source: str) -> dict[str, Any] | None:
    """``Records[0]`` when its ``key`` names ``source`` (``eventSource: "aws:sqs"``; SNS alone
    spells the key ``EventSource``), else ``None``. Never raises."""
    record = first_record(raw)
    return record if record is not None and record.get(key) == source else None


#: event source (``Records[0].eventSource``) → how Lambda learns a record failed. Poll-based
#: sources read ``batchItemFailures``; every other (asynchronous) source only sees an exception
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html,
#: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
FAILURE_BY_SOURCE: dict[str, Failure] = {
    "aws:sqs": Failure.PARTIAL,
    "aws:kinesis": Failure.PARTIAL,
    "aws:dynamodb": Failure.PARTIAL,
}


class RecordSource(PayloadShape):
    """What the Lambda record shapes share: the signature (the key and value of ``Records[0]``'s
    event source) is data, ``signature``, and so is the failure answer it implies
    (:data:`FAILURE_BY_SOURCE`); each subclass reads its records and answers."""

    provider: ClassVar[str] = PROVIDER
    signature: ClassVar[tuple[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "signature" in cls.__dict__ and "failure" not in cls.__dict__:
            cls.failure = FAILURE_BY_SOURCE.get(cls.signature[1], Failure.RAISE)

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return signed_record(raw, *cls.signature) is not None
