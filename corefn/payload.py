"""Reading provider payloads with errors a person can act on.

Adapters read nested dicts; a missing or mistyped field must surface as an
:class:`~corefn.errors.EventShapeError` naming the provider, the shape and the dotted path of
the field, never as a bare ``KeyError``. :class:`Reader` does that in one call per field::

    r = Reader("aws", "sqs")
    body = r.str(record, "body", at="Records[0]")
    attempt = r.int(record, "attributes.ApproximateReceiveCount", at="Records[0]")
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime

from corefn.errors import EventShapeError
from corefn.events.base import b64decode, parse_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

_MISSING: Any = object()


class Reader:
    __slots__ = ("provider", "shape")

    def __init__(self, provider: builtins.str, shape: builtins.str) -> None:
        self.provider = provider
        self.shape = shape

    def error(self, field: builtins.str, problem: builtins.str = "is missing") -> EventShapeError:
        return EventShapeError(self.provider, self.shape, field, problem)

    def get(self, obj: Any, path: builtins.str, expected: type[T] | tuple[type, ...], *, default: Any = _MISSING, at: builtins.str = "") -> Any:
        """The value at dotted ``path`` (``"a.b.c"``) of the ``expected`` type(s); ``default`` when
        missing or null if a default is given, else an EventShapeError."""
        where = f"{at}.{path}" if at else path
        value = obj
        for part in path.split("."):
            if not isinstance(value, dict):
                if default is not _MISSING and value is None:
                    return default
                raise self.error(where, f"is missing (parent is {type(value).__name__}, not an object)")
            value = value.get(part, _MISSING)
            if value is _MISSING or value is None:
                if default is not _MISSING:
                    return default
                raise self.error(where)
        if not isinstance(value, expected) or (isinstance(value, bool) and not _wants_bool(expected)):
            names = expected.__name__ if isinstance(expected, type) else " or ".join(k.__name__ for k in expected)
            raise self.error(where, f"should be {names}, got {type(value).__name__}")
        return value

    def str(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.str:
        return self.get(obj, path, str, at=at)  # type: ignore[no-any-return]

    def opt_str(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.str | None:
        return self.get(obj, path, str, default=None, at=at)  # type: ignore[no-any-return]

    def dict(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.dict[builtins.str, Any]:
        return self.get(obj, path, dict, at=at)  # type: ignore[no-any-return]

    def opt_dict(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.dict[builtins.str, Any]:
        """A dict, or ``{}`` when missing or null (attribute maps often are)."""
        return self.get(obj, path, dict, default={}, at=at)  # type: ignore[no-any-return]

    def list(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.list[Any]:
        return self.get(obj, path, list, at=at)  # type: ignore[no-any-return]

    def int(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.int:
        """An integer given as a number or as a decimal string (GCS sends sizes as strings)."""
        return self._int(self.get(obj, path, (int, str), at=at), f"{at}.{path}" if at else path)

    def opt_int(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> builtins.int | None:
        value = self.get(obj, path, (int, str), default=None, at=at)
        return None if value is None else self._int(value, f"{at}.{path}" if at else path)

    def _int(self, value: Any, where: builtins.str) -> builtins.int:
        if isinstance(value, int):
            return value
        try:
            return int(value)
        except ValueError:
            raise self.error(where, f"should be an integer, got {value!r}") from None

    def time(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> datetime | None:
        """A time from ISO 8601 or epoch milliseconds; ``None`` when the payload has none."""
        value = self.get(obj, path, (str, int, float), default=None, at=at)
        return self.convert(value, parse_time, f"{at}.{path}" if at else path, "a time")

    def convert(self, value: Any, fn: Callable[[Any], T], where: builtins.str, what: builtins.str) -> T:
        """``fn(value)``, with ValueError/TypeError reported as a bad field."""
        try:
            return fn(value)
        except (ValueError, TypeError, OverflowError, OSError) as exc:  # huge epochs overflow
            raise self.error(where, f"should be {what} ({exc})") from None

    def base64_bytes(self, text: builtins.str, where: builtins.str, problem: builtins.str = "is not base64") -> bytes:
        """The bytes of strict base64 ``text`` (``validate=True``: a stray character is an error,
        not silently skipped), for payloads that must be decoded at once; bad text is the field
        ``where`` with ``problem``. (Bodies decoded lazily check with ``events.base.check_base64``.)"""
        try:
            return b64decode(text, validate=True)
        except ValueError:  # binascii.Error is a ValueError
            raise self.error(where, problem) from None

    def first(self, obj: Any, path: builtins.str, *, at: builtins.str = "") -> Any:
        """The first element of a non-empty list (where a provider wraps one item in a list)."""
        items = self.list(obj, path, at=at)
        if not items:
            raise self.error(f"{at}.{path}" if at else path, "is an empty list")
        return items[0]


def _wants_bool(expected: type | tuple[type, ...]) -> bool:
    """JSON booleans are Python ints: accept one only where a bool is asked for."""
    return expected is bool or (isinstance(expected, tuple) and bool in expected)
