"""Object storage changes, in the two ways a Knative deployment hears of them:

- **IBM Cloud Object Storage** through a Code Engine subscription: ``type:
  com.ibm.cloud.cos.document.write | delete``, ``source: https://cloud.ibm.com/catalog/services/
  cloud-object-storage/BUCKET``, ``subject``: the key; ``data``: ``{bucket, key, operation,
  notification: {object_length, object_etag, content_type, request_time, ...}}``
  (https://cloud.ibm.com/docs/codeengine?topic=codeengine-eventing-cosevent-producer). A write
  is a create or an update; COS sends ``object_length`` as a decimal string.
- **S3-compatible stores (MinIO and its kin)** posting their bucket notification to a webhook:
  plain JSON, not a CloudEvent: ``{"EventName": "s3:ObjectCreated:Put", "Key": "BUCKET/KEY",
  "Records": [S3 event records, eventSource "minio:s3"]}``
  (https://min.io/docs/minio/linux/administration/monitoring/publish-events-to-webhook.html).
  Keys in the records are URL-encoded as in S3 (``+`` for a space), so they are decoded here.
  The runtime serves this on its webhook route (``/_corefn/s3``).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import unquote_plus

from corefn.cloudevents import data_object
from corefn.events import Event, StorageEvent, StorageOperation
from corefn_knative._envelope import CloudEventShape, DeliveryShape

#: COS ``ce-type`` → operation
COS_OPERATIONS: dict[str, StorageOperation] = {
    "com.ibm.cloud.cos.document.write": "created",
    "com.ibm.cloud.cos.document.delete": "deleted",
}

#: S3 event name prefixes (s3:ObjectCreated:Put ...) → operation; MinIO sends the S3 names
#: (https://min.io/docs/minio/linux/administration/monitoring/bucket-notifications.html)
S3_OPERATIONS: tuple[tuple[str, StorageOperation], ...] = (
    ("s3:ObjectCreated:", "created"),
    ("s3:ObjectRemoved:", "deleted"),
    ("s3:ObjectTransition:", "archived"),
    ("s3:ObjectRestore:", "metadata_updated"),
    ("s3:ObjectAccessed:", "metadata_updated"),
)


class CosCloudEvent(CloudEventShape):
    name: ClassVar[str] = "cos-subscription"
    kind: ClassVar[str] = "storage"
    types: ClassVar[tuple[str, ...]] = tuple(COS_OPERATIONS)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        data = data_object(r, raw, "the COS notification")
        note = r.opt_dict(data, "notification", at="data")
        at = "data.notification"
        key = r.opt_str(data, "key", at="data") or r.opt_str(note, "object_name", at=at) or r.opt_str(raw, "subject")
        if not key:
            raise r.error("data.key")
        bucket = r.opt_str(data, "bucket", at="data") or r.opt_str(note, "bucket_name", at=at)
        if not bucket:
            raise r.error("data.bucket")
        return [
            StorageEvent(
                bucket=bucket, key=key, operation=COS_OPERATIONS[r.str(raw, "type")],
                size=r.opt_int(note, "object_length", at=at), etag=r.opt_str(note, "object_etag", at=at),
                content_type=r.opt_str(note, "content_type", at=at),
                time=r.time(raw, "time") or r.time(note, "request_time", at=at), id=r.str(raw, "id"), raw=raw,
            )
        ]


class S3Webhook(DeliveryShape):
    """A MinIO-style bucket notification (see the module docstring). The store retries a
    webhook that does not answer 2xx, so a failed handler answers 500 like the CloudEvent shapes."""

    name: ClassVar[str] = "s3-webhook"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return (
            isinstance(raw, dict)
            and isinstance(raw.get("EventName"), str)
            and raw["EventName"].startswith("s3:")
            and isinstance(raw.get("Records"), list)
        )

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(r.list(self.raw, "Records")):
            at = f"Records[{i}]"
            if not isinstance(record, dict):
                raise r.error(at, "should be an object")
            name = r.str(record, "eventName", at=at)
            operation = next((op for prefix, op in S3_OPERATIONS if name.startswith(prefix)), None)
            if operation is None:
                raise r.error(f"{at}.eventName", f"is not an object event corefn knows ({name!r})")
            obj = r.dict(record, "s3.object", at=at)
            response = r.opt_dict(record, "responseElements", at=at)
            events.append(
                StorageEvent(
                    bucket=r.str(record, "s3.bucket.name", at=at),
                    key=unquote_plus(r.str(obj, "key", at=f"{at}.s3.object")),
                    operation=operation,
                    size=r.opt_int(obj, "size", at=f"{at}.s3.object"),
                    etag=r.opt_str(obj, "eTag", at=f"{at}.s3.object"),
                    content_type=r.opt_str(obj, "contentType", at=f"{at}.s3.object"),
                    version=r.opt_str(obj, "versionId", at=f"{at}.s3.object"),
                    time=r.time(record, "eventTime", at=at),
                    id=r.opt_str(response, "x-amz-request-id", at=f"{at}.responseElements") or r.opt_str(obj, "sequencer", at=f"{at}.s3.object"),
                    raw=record,
                )
            )
        return events
