"""Object storage changes, in the two ways an OpenWhisk action hears of them.

**S3-compatible stores (MinIO and its kin) on Apache OpenWhisk**, what ``corefn deploy`` sets up:
Apache OpenWhisk has no storage feed, so the bucket's own notification is the bridge. The store
posts each event to the storage handler's action, deployed as a raw web action
(:class:`S3Webhook`): ``{"EventName": "s3:ObjectCreated:Put", "Key": "BUCKET/KEY", "Records":
[S3 event records]}`` (https://min.io/docs/minio/linux/administration/monitoring/publish-events-to-webhook.html),
sent with the target's ``auth_token`` as ``Authorization: Bearer <token>``. The action compares it
(in constant time) with ``COREFN_WEBHOOK_TOKEN`` and answers 401 without it; a handler failure
answers 500, so a store with a ``queue_dir`` keeps the event and sends it again. Record keys are
URL-encoded as in S3 (``+`` for a space) and decoded here.

**IBM Cloud Object Storage notifications**, from the ``/whisk.system/cos/changes`` feed of IBM's
(retired) Cloud Functions, still read when such a trigger fires an action:

The trigger payload (IBM Cloud Functions "Cloud Object Storage event source" docs; the same body
Code Engine's COS subscription delivers, which adds ``operation``)::

    {"bucket": "b", "endpoint": "", "key": "photo 1.jpg",
     "notification": {"bucket_name": "b", "content_type": "image/jpeg",
                      "event_type": "Object:Write", "format": "2.0",
                      "object_etag": "...", "object_length": "1064391",
                      "object_name": "photo 1.jpg", "request_id": "...",
                      "request_time": "2021-02-26T19:18:30.963Z"}}

Signature: ``notification.event_type`` starting with ``Object:``. Keys arrive as plain text
(not URL-encoded, unlike S3), so they are not decoded. ``object_length`` is a decimal string.
COS notifies writes and deletes only: ``Object:Write`` → created, ``Object:Delete`` → deleted.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from datetime import datetime
from typing import Any, ClassVar

from corefn.dispatch import DispatchResult
from corefn.errors import ConfigurationError
from corefn.events import Event, StorageEvent, StorageOperation, parse_time
from corefn.kit.s3events import s3_storage_events
from corefn_openwhisk._common import TriggerShape

OPERATIONS: dict[str, StorageOperation] = {"Object:Write": "created", "Object:Delete": "deleted"}


class CosNotification(TriggerShape):
    """``notification.event_type`` = ``Object:*``: an IBM COS object event."""

    name: ClassVar[str] = "cos"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not isinstance(raw, dict):
            return False
        notification = raw.get("notification")
        return isinstance(notification, dict) and str(notification.get("event_type", "")).startswith("Object:")

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        at = "notification"
        note = r.dict(raw, at)
        event_type = r.str(note, "event_type", at=at)
        operation = OPERATIONS.get(event_type)
        if operation is None:
            raise r.error(f"{at}.event_type", f"is {event_type!r}, not one of {', '.join(OPERATIONS)}")
        bucket = r.opt_str(raw, "bucket") or r.str(note, "bucket_name", at=at)
        key = r.opt_str(raw, "key") or r.str(note, "object_name", at=at)
        size = r.opt_int(note, "object_length", at=at)
        if size is not None and size < 0:
            raise r.error(f"{at}.object_length", f"should not be negative, got {size}")
        return [
            StorageEvent(
                bucket=bucket,
                key=key,
                operation=operation,
                size=size,
                time=self._time(note, at),
                etag=r.opt_str(note, "object_etag", at=at),
                content_type=r.opt_str(note, "content_type", at=at),
                id=r.opt_str(note, "request_id", at=at),
                raw=raw,
            )
        ]

    def _time(self, note: dict[str, Any], at: str) -> datetime | None:
        """COS stamps ``request_time`` as ISO 8601 text; anything else is a malformed payload."""
        stamp = self.reader.opt_str(note, "request_time", at=at)
        return None if stamp is None else self.reader.convert(stamp, parse_time, f"{at}.request_time", "an ISO 8601 time")


#: storage operation → the MinIO ``mc event add --event`` name (the generated README's commands)
MINIO_EVENTS: dict[str, str] = {"created": "put", "deleted": "delete", "archived": "ilm", "metadata_updated": "restore"}
TOKEN_ENV = "COREFN_WEBHOOK_TOKEN"


def webhook_authorized(params: dict[str, Any]) -> bool:
    """Whether the request carries ``Authorization: Bearer $COREFN_WEBHOOK_TOKEN``; a missing
    token setting is a ConfigurationError (an open webhook would let anyone fire the handler)."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ConfigurationError(f"{TOKEN_ENV} is not set: the storage webhook refuses every notification without it")
    headers = params.get("__ow_headers")
    given = headers.get("authorization", "") if isinstance(headers, dict) else ""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _answer(status: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    if body is None:
        return {"statusCode": status}
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def unauthorized() -> dict[str, Any]:
    return _answer(401, {"error": "unauthorized"})


def webhook(adapter: Any, app: Any, params: dict[str, Any], ctx: Any, handler: str) -> dict[str, Any]:
    """A web request to a storage action, always answered in HTTP: a ``HEAD`` (how MinIO probes
    that a target is up) gets 200; anything but ``POST`` 405; no token 401; a body that is no
    bucket notification 400 naming the field; then the handler's outcome (:class:`S3Webhook`).
    A missing ``COREFN_WEBHOOK_TOKEN`` setting stays a ConfigurationError (the caller's 500)."""
    from corefn.adapters import handle
    from corefn.errors import PayloadError
    from corefn.log import get_logger

    method = str(params.get("__ow_method", "")).lower()
    if method == "head":
        return _answer(200)
    if method != "post":
        return {**_answer(405, {"error": "bucket notifications are POSTed"}), "headers": {"allow": "POST, HEAD", "content-type": "application/json"}}
    if not webhook_authorized(params):
        get_logger("openwhisk").warning("storage webhook: refused a request without the token", extra={"invocation_id": ctx.invocation_id})
        return unauthorized()
    try:
        answer: dict[str, Any] = handle(adapter, app, params, ctx, pinned=handler, shape=S3Webhook)
    except PayloadError as error:
        return _answer(400, {"error": str(error)})
    return answer


class S3Webhook(TriggerShape):
    """A MinIO-style bucket notification posted to a raw web action (see the module docstring).
    Chosen by the runtime for a storage action's web request, not by detection: a web request
    to any other action is an HTTP request."""

    name: ClassVar[str] = "s3-webhook"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return False  # never detected: see the class docstring

    def notification(self) -> dict[str, Any]:
        r, raw = self.reader, self.raw
        body = raw.get("__ow_body")
        if not isinstance(body, str) or not body:
            raise r.error("__ow_body", "should carry the notification")
        text = body
        if not body.lstrip().startswith("{"):  # OpenWhisk passes a JSON request entity base64-encoded
            try:
                text = base64.b64decode(body, validate=True).decode("utf-8")
            except ValueError:
                raise r.error("__ow_body", "is neither JSON nor base64-encoded JSON") from None
        try:
            found = json.loads(text)
        except ValueError:
            raise r.error("__ow_body", "is not JSON") from None
        if not isinstance(found, dict):
            raise r.error("__ow_body", "should be a JSON object")
        return found

    def to_events(self) -> list[Event]:
        return list(s3_storage_events(self.reader, self.notification()))

    def to_response(self, result: DispatchResult) -> dict[str, Any]:
        """200 with the summary, or 500 naming the failed records: the store sends the event again."""
        answer = super().to_response(result)
        status = 500 if "error" in answer else 200
        return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(answer)}

