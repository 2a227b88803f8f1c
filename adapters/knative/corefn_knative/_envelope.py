"""The one envelope every Knative delivery arrives in: a CloudEvent, read as a plain dict.

Shapes read CloudEvents in the JSON event format (CloudEvents 1.0 JSON format,
https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md): context
attributes and extensions at the top level, ``data`` as a JSON value or ``data_base64`` for
binary data (§3.1). ``corefn inspect`` reads that form from a file, and the runtime turns every
HTTP delivery (binary mode: ``ce-`` headers and the body; structured mode:
``application/cloudevents+json``) into the same dict with :func:`from_http`, so one shape reads
both.

Every shape answers like an HTTP endpoint behind a Knative broker or source: 2xx only when every
handler succeeded, else 500, which makes the sender redeliver with the subscription's
``delivery.retry`` / ``backoffPolicy`` and finally send the event to its ``deadLetterSink``
(Knative Eventing delivery spec, https://knative.dev/docs/eventing/event-delivery/). Replying
with a body would be read as a reply event, so a success has none.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from corefn.cloudevents import is_json_type
from corefn.events.http import HttpResponse
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult

PROVIDER = "knative"

class KnativeReader(Reader):
    __slots__ = ()

    def __init__(self, shape: str) -> None:
        super().__init__(PROVIDER, shape)


class DeliveryShape(PayloadShape):
    """What every Knative shape shares: it answers with an HTTP status the broker or source that
    delivered the event understands (see the module docstring): a failure is a 500, a value
    (:class:`~corefn.kit.Failure` ``RESULT``)."""

    provider: ClassVar[str] = PROVIDER
    failure: ClassVar[Failure] = Failure.RESULT

    def to_response(self, result: DispatchResult) -> Any:
        return delivery_answer(result)


class CloudEventShape(DeliveryShape):
    """A shape claiming CloudEvents (in the JSON event format) by their ``type``."""

    #: the CloudEvent ``type`` values (or prefixes ending in ".") this shape claims
    types: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def matches(cls, raw: Any) -> bool:
        kind = cloud_event_type(raw)
        return kind is not None and any(kind == t or (t.endswith(".") and kind.startswith(t)) for t in cls.types)


def delivery_answer(result: DispatchResult) -> HttpResponse:
    """204 when every event was handled (or left out by a trigger filter); 500 naming the first
    failed event otherwise, so the broker redelivers and finally dead-letters it."""
    failed = result.failed
    if not failed:
        return HttpResponse(204)
    first = failed[0]
    error = first.error
    detail = f"{type(error).__name__}: {error}" if error is not None else "failed"
    return HttpResponse.json({"error": "handler failed", "event_id": first.event.id, "detail": detail[:500]}, 500)


def cloud_event_type(raw: Any) -> str | None:
    """The ``type`` of a CloudEvent in JSON form, or None when ``raw`` is none. Never raises."""
    if isinstance(raw, dict) and raw.get("specversion") == "1.0":
        kind = raw.get("type")
        return kind if isinstance(kind, str) else None
    return None


def last_segment(source: str) -> str:
    """``/apis/v1/namespaces/ns/pingsources/nightly`` → ``nightly``."""
    return source.rstrip("/").rsplit("/", 1)[-1]


# ------------------------------------------------------------------------- HTTP → JSON form

def from_binary(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """A binary-mode HTTP delivery (HTTP protocol binding §3.1: every attribute a ``ce-`` header,
    percent-encoded where needed; ``datacontenttype`` is the ``content-type``) in JSON form.

    Raises ``ValueError`` naming what is wrong; the runtime answers it with 400."""
    from urllib.parse import unquote

    out: dict[str, Any] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("ce-") and len(lower) > 3:
            out[lower[3:]] = unquote(value)
    content_type = headers.get("content-type") or headers.get("Content-Type")
    if content_type:
        out["datacontenttype"] = content_type
    if out.get("specversion") != "1.0":
        raise ValueError(f"ce-specversion must be 1.0, got {out.get('specversion')!r}")
    if body:
        if is_json_type(content_type) or content_type is None:
            try:
                out["data"] = json.loads(body)
            except ValueError:
                if content_type is not None:
                    raise ValueError(f"the body is not the JSON its content-type {content_type!r} says") from None
                out["data_base64"] = base64.b64encode(body).decode("ascii")
        elif (content_type or "").lower().startswith("text/"):
            try:
                out["data"] = body.decode("utf-8")
            except UnicodeDecodeError:
                out["data_base64"] = base64.b64encode(body).decode("ascii")
        else:
            out["data_base64"] = base64.b64encode(body).decode("ascii")
    check_required(out)
    return out


def from_structured(body: bytes) -> dict[str, Any]:
    """A structured-mode delivery (``application/cloudevents+json``) in JSON form."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise ValueError("a structured CloudEvent must be a JSON object")
    if event.get("specversion") != "1.0":
        raise ValueError(f"specversion must be 1.0, got {event.get('specversion')!r}")
    check_required(event)
    return event


def check_required(event: Mapping[str, Any]) -> None:
    """CloudEvents 1.0 §3.1 REQUIRED attributes: ``id``, ``source``, ``type`` (non-empty strings)."""
    for name in ("id", "source", "type"):
        value = event.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"the required attribute {name!r} is missing or empty")
