"""The two envelopes every Google event arrives in, read once for all trigger families.

- **CloudEvents** (2nd gen, Eventarc): ``specversion``, ``type``, ``source``, ``id``, ``time``,
  ``subject`` and ``data``. Structured JSON may carry binary data as ``data_base64`` (CloudEvents
  JSON format §3.1); the runtime turns binary-mode HTTP requests and the functions-framework's
  ``CloudEvent`` objects into the same dict, with ``data`` as bytes when it is not JSON
  (Firestore sends ``application/protobuf``).
- **Legacy background events** (1st gen): ``{"context": {eventId, timestamp, eventType,
  resource}, "data": ...}``, or the older flat form with those four keys at the top level
  (the ``providers/...`` event types of the GCF v1beta2 API). ``resource`` is a string or
  ``{"service", "name", "type"}``.

Every event shape answers a failure by raising (:class:`corefn.kit.Failure` ``RAISE``):
functions-framework then answers 500, and Google retries (with ``--retry``) or the push
subscription redelivers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader


class EventShape(PayloadShape):
    """What every Google event shape shares (all but HTTP and the warm-up): it answers a failed
    handler by raising (see the module docstring), the kit's default."""

    provider: ClassVar[str] = "gcp"
    failure: ClassVar[Failure] = Failure.RAISE


# ------------------------------------------------------------------------------ CloudEvents


def cloud_event_type(raw: Any) -> str | None:
    """The CloudEvent ``type`` of ``raw``, or None when ``raw`` is no CloudEvent. Never raises."""
    if isinstance(raw, dict) and "specversion" in raw:
        kind = raw.get("type")
        return kind if isinstance(kind, str) else None
    return None


def is_cloud_event_of(raw: Any, prefix: str) -> bool:
    """Whether ``raw`` is a CloudEvent whose ``type`` starts with ``prefix``. Never raises."""
    kind = cloud_event_type(raw)
    return kind is not None and kind.startswith(prefix)


def cloud_event_data(r: Reader, raw: dict[str, Any]) -> Any:
    """``data`` (a dict for JSON events, bytes for binary ones) or the decoded ``data_base64``."""
    if raw.get("data_base64") is not None:
        return r.base64_bytes(r.str(raw, "data_base64"), "data_base64")
    return raw.get("data")


# ------------------------------------------------------------------------ legacy (1st gen)


class Legacy:
    """A background event's context and data, whichever of the two layouts carried it. ``at``
    is where the context fields live (``context``, or ``""`` for the flat form), for errors."""

    __slots__ = ("event_type", "event_id", "time", "resource", "data", "at")

    def __init__(self, event_type: str, event_id: str | None, time: datetime | None, resource: str, data: Any, at: str) -> None:
        self.event_type = event_type
        self.event_id = event_id
        self.time = time
        self.resource = resource
        self.data = data
        self.at = at


def legacy_type(raw: Any) -> str | None:
    """The background ``eventType`` of ``raw``, or None when it is no legacy event. Never raises."""
    if not isinstance(raw, dict) or "specversion" in raw:
        return None
    context = raw.get("context")
    holder = context if isinstance(context, dict) else raw
    kind = holder.get("eventType")
    return kind if isinstance(kind, str) and "data" in raw else None


def is_legacy_of(raw: Any, prefixes: str | tuple[str, ...]) -> bool:
    """Whether ``raw`` is a background event whose ``eventType`` starts with one of ``prefixes``."""
    kind = legacy_type(raw)
    return kind is not None and kind.startswith(prefixes)


def read_legacy(r: Reader, raw: dict[str, Any]) -> Legacy:
    at = "context" if isinstance(raw.get("context"), dict) else ""
    holder = raw["context"] if at else raw
    resource = holder.get("resource")
    if isinstance(resource, dict):
        name = r.str(resource, "name", at=f"{at}.resource" if at else "resource")
    elif isinstance(resource, str):
        name = resource
    else:
        raise r.error(f"{at}.resource" if at else "resource", "should be a string or an object with a name")
    return Legacy(
        event_type=r.str(holder, "eventType", at=at),
        event_id=r.opt_str(holder, "eventId", at=at),
        time=r.time(holder, "timestamp", at=at),
        resource=name,
        data=raw.get("data"),
        at=at,
    )


# ------------------------------------------------------------------------------------ names


def segment_after(r: Reader, path: str, marker: str, field: str) -> str:
    """The path segment after ``marker`` (``projects/p/topics/orders`` → ``orders`` for
    ``topics``): the JSON form names resources by short name, never by full path."""
    parts = path.split("/")
    try:
        value = parts[parts.index(marker) + 1]
    except (ValueError, IndexError):
        raise r.error(field, f"should name a resource as .../{marker}/NAME, got {path!r}") from None
    if not value:
        raise r.error(field, f"has an empty {marker} name")
    return value


def short_name(path: str | None) -> str | None:
    """``projects/p/subscriptions/s`` → ``s``; anything without a slash stays as it is."""
    return path.rsplit("/", 1)[-1] if path else path


def string_map(r: Reader, value: dict[str, Any], field: str) -> dict[str, str]:
    """A str → str map (Pub/Sub attributes), refusing other value types."""
    for key, item in value.items():
        if not isinstance(item, str):
            raise r.error(f"{field}.{key}", f"should be str, got {type(item).__name__}")
    return value
