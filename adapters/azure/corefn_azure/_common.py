"""What every Azure shape shares: recognising binding objects without importing the SDK, and
reading their attributes and the values the host serialises (the host's JSON invocation
envelope itself is read in :mod:`corefn_azure._envelope`).

Two input worlds reach this adapter:

- **Binding objects** (``func.QueueMessage``, ``func.InputStream``, ...), which the Python worker
  builds from the host's gRPC message. ``azure.functions`` is imported only once an object's own
  class says it comes from that package, so a dict never pays for the import.
- **JSON** for ``corefn inspect``: Event Grid events as Azure publishes them, the bare JSON the
  host hands the worker for timers (``TimerInfo``) and Cosmos DB (the document list), and the
  *host envelope* the Functions host sends a custom handler (:mod:`corefn_azure._envelope`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events.base import Body, parse_time
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader

if TYPE_CHECKING:
    pass

PROVIDER = "azure"


def is_binding(raw: Any, *names: str) -> bool:
    """Whether ``raw`` is one of the ``azure.functions`` classes ``names``. The class's module
    name is checked first so that plain JSON never triggers the SDK import (cold start)."""
    if isinstance(raw, (dict, list, str, int, float, bool)) or raw is None:
        return False
    if not any(getattr(c, "__module__", "").startswith("azure.functions") for c in type(raw).__mro__):
        return False
    import azure.functions as func

    return isinstance(raw, tuple(getattr(func, name) for name in names))


def is_binding_list(raw: Any, *names: str) -> bool:
    """A non-empty list of binding objects (``cardinality=many``), judged by its first item."""
    return isinstance(raw, list) and bool(raw) and is_binding(raw[0], *names)


def binding_object(reader: Reader, raw: Any, name: str, at: str = "$") -> Any:
    """``raw``, checked to be the ``azure.functions`` class ``name``: a shape claims only its own
    objects, so anything else reached it through ``--shape`` (JSON, say) and is a named error."""
    if not is_binding(raw, name):
        raise reader.error(at, f"should be {'an' if name[:1] in 'AEIOU' else 'a'} {name}")
    return raw


def binding_items(reader: Reader, raw: Any, name: str) -> Iterator[tuple[str, Any]]:
    """(field prefix, object) for one binding object, or for each of a ``cardinality="many"``
    list (prefix ``[i].``, so errors name the item). Each item is checked to be a ``name`` as it
    is reached: the shape was claimed by the first item only."""
    many = isinstance(raw, list)
    for i, item in enumerate(raw if many else [raw]):
        at = f"[{i}]." if many else ""
        yield at, binding_object(reader, item, name, at.rstrip(".") or "$")


def decode_json_text(value: Any) -> Any:
    """The host serialises some values (queries, timer info, document lists) as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def body_of(value: Any, reader: Reader, field: str) -> Body:
    """A message body as the host serialised it: text, or a JSON value it already parsed."""
    if value is None:
        return Body(None)
    if isinstance(value, str):
        return Body(value)
    if isinstance(value, (dict, list, int, float, bool)):
        return Body(json.dumps(value, separators=(",", ":")))
    raise reader.error(field, f"should be text or JSON, got {type(value).__name__}")


def last_segment(path: str | None) -> str | None:
    """``/subscriptions/.../storageAccounts/acct`` → ``acct`` (names are short names)."""
    if not path:
        return None
    return path.rstrip("/").rsplit("/", 1)[-1] or None


class EventShape(PayloadShape):
    """What the non-HTTP shapes read from binding objects or bare JSON share: they keep the
    payload, and a failed handler's error is raised, for Azure's non-HTTP triggers learn of a
    failure only through an exception (the host then retries and, in the end, poisons or
    dead-letters). A shape read from a binding object names its ``azure.functions`` class in
    ``binding`` (``many``: a ``cardinality="many"`` list of them too) instead of a ``matches``."""

    provider: ClassVar[str] = PROVIDER
    failure: ClassVar[Failure] = Failure.RAISE
    binding: ClassVar[str] = ""
    many: ClassVar[bool] = False

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not cls.binding:
            return False
        return is_binding(raw, cls.binding) or (cls.many and is_binding_list(raw, cls.binding))


# ------------------------------------------------------------------ binding-object attributes


def str_value(reader: Reader, value: Any, field: str, *, required: bool = False) -> str | None:
    """A binding object's string attribute, checked (the library does not check its inputs)."""
    if value is None:
        if required:
            raise reader.error(field)
        return None
    if not isinstance(value, str):
        raise reader.error(field, f"should be str, got {type(value).__name__}")
    return value


def time_value(reader: Reader, value: Any, field: str) -> datetime | None:
    """A binding object's time attribute (ISO text, epoch milliseconds or a datetime), checked as
    ``reader.time`` checks a payload field (out-of-range epochs included)."""
    return reader.convert(value, parse_time, field, "a time")


def int_value(reader: Reader, value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise reader.error(field, f"should be an integer, got {type(value).__name__}")
    return value


def bytes_value(reader: Reader, value: Any, field: str) -> Body:
    """A binding object's body (``get_body()``): bytes or text; anything else is a bad field."""
    if value is None or isinstance(value, (bytes, bytearray, memoryview, str)):
        return Body(value)
    raise reader.error(field, f"should be bytes, got {type(value).__name__}")
