"""What every publisher backend does the same way: turn a body into bytes, split batches.

Dicts and lists are sent as compact JSON (``{"a":1}``, UTF-8, no ASCII escaping), text as UTF-8,
bytes as they are; so a consumer on any cloud reads the same bytes back. The publishers of every
adapter (SQS, SNS, Kinesis, Queue Storage, Service Bus, Pub/Sub, Kafka) import these: a copy per
cloud had drifted (one sent ``42`` as a message, another refused it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from corefn.errors import ConfigurationError

T = TypeVar("T")

Body = bytes | bytearray | memoryview | str | Mapping[str, Any] | list[Any]


def body_bytes(body: Body) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (Mapping, list)):
        # default=str: datetimes, Decimals and UUIDs in a payload are sent as text, as
        # HttpResponse.json does, rather than failing deep inside json
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")
    raise ConfigurationError(f"a message body must be bytes, str, a dict or a list, not {type(body).__name__}")


def body_text(body: Body, sink: str, service: str) -> str:
    """The body as text, for services whose messages are text only (SQS, SNS): binary that is not
    UTF-8 is refused rather than silently mangled."""
    data = body_bytes(body)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"sink {sink!r}: {service} messages are text; base64-encode binary bodies before sending"
        ) from None


def check_attributes(attributes: Mapping[str, str] | None, sink: str) -> dict[str, str]:
    if not attributes:
        return {}
    bad = [k for k, v in attributes.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ConfigurationError(f"sink {sink!r}: message attributes map str to str; bad: {bad}")
    return dict(attributes)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
