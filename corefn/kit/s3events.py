"""Object changes in S3's event message format, as S3-compatible stores (MinIO and its kin) post
them to a webhook: ``{"Records": [{"eventName": "s3:ObjectCreated:Put", "eventTime": ...,
"s3": {"bucket": {"name": ...}, "object": {"key": ..., "size": ..., "eTag": ...}}}, ...]}``
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html;
MinIO sends the same records, https://min.io/docs/minio/linux/administration/monitoring/bucket-notifications.html).
Shared by every adapter that serves such a webhook (OpenWhisk's web action, Knative's route), so
one reading decides what a record means.

Keys are URL-encoded as in S3 (``+`` for a space) and are decoded here. Only object *changes*
become events: ``s3:ObjectAccessed:*`` (a read) and names corefn does not know are refused with
the record's path, since a store configured to send them would otherwise fire storage handlers
on reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_plus

from corefn.events import StorageEvent
from corefn.payload import Reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from corefn.events import StorageOperation

#: S3 event name prefixes → corefn's operation
S3_OPERATIONS: tuple[tuple[str, StorageOperation], ...] = (
    ("s3:ObjectCreated:", "created"),
    ("s3:ObjectRemoved:", "deleted"),
    ("s3:ObjectTransition:", "archived"),
    ("s3:ObjectRestore:", "metadata_updated"),
)


def s3_storage_events(r: Reader, note: Mapping[str, Any]) -> list[StorageEvent]:
    """The storage events of ``note``'s ``Records``; a malformed record is an EventShapeError
    naming its dotted path (``Records[0].s3.object.key``)."""
    events: list[StorageEvent] = []
    for i, record in enumerate(r.list(note, "Records")):
        at = f"Records[{i}]"
        if not isinstance(record, dict):
            raise r.error(at, "should be an object")
        name = r.str(record, "eventName", at=at)
        operation = next((op for prefix, op in S3_OPERATIONS if name.startswith(prefix)), None)
        if operation is None:
            raise r.error(f"{at}.eventName", f"is not an object change corefn knows ({name!r})")
        where = f"{at}.s3.object"
        obj = r.dict(record, "s3.object", at=at)
        response = r.opt_dict(record, "responseElements", at=at)
        events.append(
            StorageEvent(
                bucket=r.str(record, "s3.bucket.name", at=at),
                key=unquote_plus(r.str(obj, "key", at=where)),
                operation=operation,
                size=r.opt_int(obj, "size", at=where),
                etag=r.opt_str(obj, "eTag", at=where),
                content_type=r.opt_str(obj, "contentType", at=where),
                version=r.opt_str(obj, "versionId", at=where),
                time=r.time(record, "eventTime", at=at),
                id=r.opt_str(response, "x-amz-request-id", at=f"{at}.responseElements") or r.opt_str(obj, "sequencer", at=where),
                raw=record,
            )
        )
    return events
