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
  The records are read by :mod:`corefn.kit.s3events` (shared with OpenWhisk's webhook). The
  runtime serves this on its webhook route (``/_corefn/s3``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.cloudevents import data_object
from corefn.events import Event, StorageEvent, StorageOperation
from corefn.kit.s3events import s3_storage_events
from corefn_knative._envelope import CloudEventShape, DeliveryShape

#: COS ``ce-type`` → operation
COS_OPERATIONS: dict[str, StorageOperation] = {
    "com.ibm.cloud.cos.document.write": "created",
    "com.ibm.cloud.cos.document.delete": "deleted",
}

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
        return list(s3_storage_events(self.reader, self.raw))
