"""S3 object events, however they arrive: direct bucket notifications, EventBridge, or the
S3 → SQS and S3 → SNS fan-outs (the contract: an S3 event wrapped in an SQS or SNS message is
a storage event).

S3 notification keys are URL-encoded *form* values: a space is ``+`` and a real ``+`` is
``%2B`` (``my+photo%281%29.jpg`` is ``my photo(1).jpg``), hence ``unquote_plus``. EventBridge
delivers keys as they are, undecoded.

How S3's event names map to the contract's operations (the prefix before ``:`` decides, after an
optional ``s3:``: S3 names event types ``s3:ObjectCreated:*`` in notification configurations, and
that spelling also reaches ``eventName`` — AWS's examples of lifecycle, restore, replication and
Intelligent-Tiering notifications carry it, as do S3-compatible stores such as MinIO):

==============================================  ====================  =============================
S3 notification ``eventName``                   EventBridge type      operation
==============================================  ====================  =============================
``ObjectCreated:*`` (Put, Post, Copy, MPU)      Object Created        created
``ObjectRemoved:Delete`` / ``DeleteMarker...``  Object Deleted        deleted
``LifecycleExpiration:*``                       Object Deleted        deleted
``ReducedRedundancyLostObject``                 –                     deleted (the data is gone)
``LifecycleTransition``                         Storage Class Changed archived
``IntelligentTiering``                          Access Tier Changed   archived
``ObjectRestore:Post`` / ``Completed`` /        Object Restore        metadata_updated
``Delete``                                      Initiated/Completed/
                                                Expired
``ObjectTagging:*``, ``ObjectAcl:Put``          Object Tags Added /   metadata_updated
                                                Deleted, ACL Updated
``Replication:*``                               –                     metadata_updated
==============================================  ====================  =============================

Why restore is ``metadata_updated`` and not ``archived``: ``archived`` means the object moved
*to* an archive tier (a lifecycle transition). A restore makes a temporary copy of an archived
object readable (or lets it lapse); the object itself stays archived and only its restore
status (``x-amz-restore``) changes. Handlers that care read ``event.raw["eventName"]``.

``s3:TestEvent`` — the message S3 sends when a notification is configured — yields no events.
"""

from __future__ import annotations

from functools import cached_property

from corefn.dispatch import DispatchResult
from corefn.events import Event, StorageEvent
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader
from corefn_aws._common import PROVIDER, batch_failures, raise_if_failed, records, signed_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn.events import StorageOperation

#: S3 notification eventName prefix → operation
NOTIFICATION_OPERATIONS: dict[str, StorageOperation] = {
    "ObjectCreated": "created",
    "ObjectRemoved": "deleted",
    "LifecycleExpiration": "deleted",
    "ReducedRedundancyLostObject": "deleted",
    "LifecycleTransition": "archived",
    "IntelligentTiering": "archived",
    "ObjectRestore": "metadata_updated",
    "ObjectTagging": "metadata_updated",
    "ObjectAcl": "metadata_updated",
    "Replication": "metadata_updated",
}

#: the type prefix of the configuration spelling, accepted in ``eventName`` too
NOTIFICATION_PREFIX = "s3:"

#: EventBridge detail-type (source aws.s3) → operation
EVENTBRIDGE_OPERATIONS: dict[str, StorageOperation] = {
    "Object Created": "created",
    "Object Deleted": "deleted",
    "Object Storage Class Changed": "archived",
    "Object Access Tier Changed": "archived",
    "Object Restore Initiated": "metadata_updated",
    "Object Restore Completed": "metadata_updated",
    "Object Restore Expired": "metadata_updated",
    "Object Tags Added": "metadata_updated",
    "Object Tags Deleted": "metadata_updated",
    "Object ACL Updated": "metadata_updated",
}


def is_test_event(body: Any) -> bool:
    return isinstance(body, dict) and body.get("Event") == "s3:TestEvent"


def is_notification(body: Any) -> bool:
    """An S3 notification document (``Records[0].eventSource == "aws:s3"``) or S3's test event."""
    return is_test_event(body) or signed_record(body, "eventSource", "aws:s3") is not None


def notification_events(r: Reader, doc: Any, at: str = "") -> list[StorageEvent]:
    """Storage events of one S3 notification document (``[]`` for ``s3:TestEvent``)."""
    if is_test_event(doc):
        return []
    where = f"{at}." if at else ""
    events = []
    for i, record in enumerate(records(r, doc, at)):
        here = f"{where}Records[{i}]"
        name = r.str(record, "eventName", at=here)
        operation = NOTIFICATION_OPERATIONS.get(name.removeprefix(NOTIFICATION_PREFIX).split(":", 1)[0])
        if operation is None:
            raise r.error(f"{here}.eventName", f"is not an S3 event name this adapter knows ({name!r})")
        obj = r.dict(record, "s3.object", at=here)
        events.append(
            StorageEvent(
                bucket=r.str(record, "s3.bucket.name", at=here),
                key=_decode_key(r.str(obj, "key", at=f"{here}.s3.object")),
                operation=operation,
                size=r.opt_int(obj, "size", at=f"{here}.s3.object"),
                time=r.time(record, "eventTime", at=here),
                etag=r.opt_str(obj, "eTag", at=f"{here}.s3.object"),
                version=r.opt_str(obj, "versionId", at=f"{here}.s3.object"),
                raw=record,
                sequencer=r.opt_str(obj, "sequencer", at=f"{here}.s3.object"),
            )
        )
    return events


def _loads(text: str) -> Any:
    """json, imported on first use: only S3 events wrapped in SQS/SNS bodies need it, and a
    Lambda that serves HTTP should not pay for it on its cold start."""
    import json

    return json.loads(text)


def _decode_key(key: str) -> str:
    """S3 URL-encodes keys with ``+`` for spaces; most keys need no decoding at all."""
    if "%" not in key and "+" not in key:
        return key
    from urllib.parse import unquote_plus

    return unquote_plus(key)


def parse_json(r: Reader, text: Any, where: str) -> Any:
    if not isinstance(text, str):
        raise r.error(where, f"should be a JSON string, got {type(text).__name__}")
    return r.convert(text, _loads, where, "JSON")


def looks_like_s3(text: Any) -> bool:
    """Cheap pre-check before parsing a message body as JSON: S3 documents always carry one of
    these markers."""
    return isinstance(text, str) and text.lstrip().startswith("{") and ("aws:s3" in text or "s3:TestEvent" in text)


# ------------------------------------------------------------------------------- direct


class S3Shape(PayloadShape):
    """What the S3 shapes share: an asynchronous invocation (direct, EventBridge, SNS) learns of
    a failure only from an exception, :class:`~corefn_aws._common.RecordsFailedError` chained to
    the handler's own; the SQS fan-out answers ``batchItemFailures`` instead."""

    provider: ClassVar[str] = PROVIDER
    kind: ClassVar[str] = "storage"
    failure: ClassVar[Failure] = Failure.RAISE

    def to_response(self, result: DispatchResult) -> Any:
        raise_if_failed(result)
        return None


class S3Notification(S3Shape):
    """S3 bucket notification delivered straight to Lambda (an asynchronous invocation)."""

    name: ClassVar[str] = "s3"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_notification(raw)

    def to_events(self) -> list[Event]:
        return list(notification_events(self.reader, self.raw))


class S3EventBridge(S3Shape):
    """S3 events routed through EventBridge (``source == "aws.s3"``); asynchronous too."""

    name: ClassVar[str] = "s3-eventbridge"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("source") == "aws.s3" and "detail-type" in raw

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        kind = r.str(raw, "detail-type")
        operation = EVENTBRIDGE_OPERATIONS.get(kind)
        if operation is None:
            raise r.error("detail-type", f"is not an S3 event type this adapter knows ({kind!r})")
        obj = r.dict(raw, "detail.object")
        return [
            StorageEvent(
                bucket=r.str(raw, "detail.bucket.name"),
                key=r.str(obj, "key", at="detail.object"),
                operation=operation,
                size=r.opt_int(obj, "size", at="detail.object"),
                time=r.time(raw, "time"),
                etag=r.opt_str(obj, "etag", at="detail.object"),
                version=r.opt_str(obj, "version-id", at="detail.object"),
                id=r.opt_str(raw, "id"),
                raw=raw,
            )
        ]


# ------------------------------------------------------------------------------ wrapped


class S3ViaSqs(S3Shape):
    """S3 notifications queued in SQS (directly, or S3 → SNS → SQS without raw delivery, where
    the body is SNS's envelope and the S3 document its ``Message``).

    Lambda's SQS event source mapping expects failures by SQS ``messageId``: every storage
    event remembers which message carried it (through its ``raw`` record, which survives the
    dispatcher's renaming of the bucket)."""

    name: ClassVar[str] = "sqs-s3"
    failure: ClassVar[Failure] = Failure.PARTIAL

    @classmethod
    def matches(cls, raw: Any) -> bool:
        record = signed_record(raw, "eventSource", "aws:sqs")
        if record is None or not looks_like_s3(record.get("body")):
            return False
        try:
            body = _loads(record["body"])
        except ValueError:
            return False
        if isinstance(body, dict) and body.get("Type") == "Notification":
            body = _json_or_none(body.get("Message"))
        return is_notification(body)

    @cached_property
    def _carrier(self) -> dict[int, str]:
        """Each event's SQS message (``id`` of the event's raw record → ``messageId``), filled by
        ``to_events``: a failure is reported as the message that carried it."""
        return {}

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            at = f"Records[{i}]"
            message_id = r.str(record, "messageId", at=at)
            doc = parse_json(r, record.get("body"), f"{at}.body")
            where = f"{at}.body"
            if isinstance(doc, dict) and doc.get("Type") == "Notification":
                doc = parse_json(r, doc.get("Message"), f"{where}.Message")
                where = f"{where}.Message"
            if not is_notification(doc):
                raise r.error(where, "is not an S3 notification (a queue fed by S3 carries only S3 events)")
            for event in notification_events(r, doc, at=where):
                self._carrier[id(event.raw)] = message_id
                events.append(event)
        return events

    def to_response(self, result: DispatchResult) -> Any:
        failed = dict.fromkeys(self._carrier.get(id(o.event.raw), str(o.event.id)) for o in result.failed)
        return batch_failures(failed, result)


class S3ViaSns(S3Shape):
    """S3 notifications published to an SNS topic and delivered to Lambda by SNS (async)."""

    name: ClassVar[str] = "sns-s3"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        record = signed_record(raw, "EventSource", "aws:sns")
        if record is None:
            return False
        sns = record.get("Sns")
        message = sns.get("Message") if isinstance(sns, dict) else None
        return looks_like_s3(message) and is_notification(_json_or_none(message))

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            where = f"Records[{i}].Sns.Message"
            doc = parse_json(r, r.str(record, "Sns.Message", at=f"Records[{i}]"), where)
            if not is_notification(doc):
                raise r.error(where, "is not an S3 notification")
            events.extend(notification_events(r, doc, at=where))
        return events


def _json_or_none(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return _loads(text)
    except ValueError:
        return None
