"""What the SQS and SNS publishers share: message attributes, FIFO fields, batch entries, sending
them ten at a time, and turning a batch answer's ``Failed`` list into one error."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from corefn.errors import SinkError
from corefn.kit.sinks import Body, body_text, check_attributes, chunked, wrap
from corefn_aws.sinks._aws import AWS_ERROR_CODES, aws_errors

#: SQS SendMessageBatch / SNS PublishBatch: at most 10 entries per call
BATCH_SIZE = 10


def message_attributes(attributes: Mapping[str, str] | None, sink: str) -> dict[str, Any]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in check_attributes(attributes, sink).items()}


def fifo_fields(fifo: bool, group: str | None, text: str, dedup: str) -> dict[str, str]:
    """FIFO queues and topics need a group (ordering scope) and a deduplication id. Without a
    ``group`` every message shares one (total order). The dedup id is random by default, so two
    equal messages are both delivered; sink option ``dedup="content"`` uses the body's SHA-256
    (SQS/SNS drop a repeat within 5 minutes). Standard queues and topics get no FIFO fields."""
    if not fifo:
        return {}
    dedup_id = hashlib.sha256(text.encode()).hexdigest() if dedup == "content" else uuid.uuid4().hex
    return {"MessageGroupId": group or "default", "MessageDeduplicationId": dedup_id}


def batch_entries(bodies: Iterable[Body], attributes: Mapping[str, str] | None, sink: str, service: str, body_field: str, fifo: bool, dedup: str) -> list[dict[str, Any]]:
    attrs = message_attributes(attributes, sink)
    entries = []
    for index, body in enumerate(bodies):
        text = body_text(body, sink, service)
        entry: dict[str, Any] = {"Id": str(index), body_field: text, **fifo_fields(fifo, None, text, dedup)}
        if attrs:
            entry["MessageAttributes"] = attrs
        entries.append(entry)
    return entries


def send_in_batches(sink: str, entries: list[dict[str, Any]], call: Callable[[list[dict[str, Any]]], Mapping[str, Any]]) -> list[str]:
    """Send ``entries`` ``BATCH_SIZE`` per ``call`` (SendMessageBatch, PublishBatch); the message
    ids in the caller's order, or one SinkError naming every entry the service did not take."""
    ids: dict[str, str] = {}
    failed: list[Mapping[str, Any]] = []
    for chunk in chunked(entries, BATCH_SIZE):
        with aws_errors(sink):
            answer = call(chunk)
        ids.update({ok["Id"]: ok["MessageId"] for ok in answer.get("Successful", ())})
        failed.extend(answer.get("Failed", ()))
    raise_failures(sink, failed, len(entries))
    return [ids[str(i)] for i in range(len(entries))]


def raise_failures(sink: str, failed: Sequence[Mapping[str, Any]], total: int) -> None:
    """Raise one SinkError for the entries a batch call could not send, of the family of the
    first failure's code (SQS/SNS report per-entry failures in a 200 answer, not as an error)."""
    if not failed:
        return
    first = failed[0]
    family = AWS_ERROR_CODES.get(str(first.get("Code")), SinkError)
    detail = ", ".join(f"#{f.get('Id')}: {f.get('Code')} {f.get('Message', '')}".strip() for f in failed)
    raise wrap(sink, RuntimeError(detail), family, f"{len(failed)} of {total} messages were not sent ({detail})")
