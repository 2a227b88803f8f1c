"""What every event shares, and the lazy values that keep normalisation cheap.

Adapters build events on the hot path of every invocation, most of whose fields a handler never
reads. So the expensive parts (base64 bodies, header case-folding, query parsing, DynamoDB /
Firestore typed values) are stored as the provider gave them and decoded on first use, then
cached: :class:`Body`, :class:`Headers`, :class:`Query` and :class:`LazyMap`.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime

from corefn._record import Record, _set

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar, overload

    _T = TypeVar("_T")

# ----------------------------------------------------------------------------------- time


def parse_time(value: str | int | float | datetime | None) -> datetime | None:
    """An aware UTC datetime from what providers send: ISO 8601 (any number of fraction digits,
    ``Z`` or an offset) or epoch milliseconds. ``None`` stays ``None``: a time the payload does
    not carry is never "now".

    Raises ``ValueError`` / ``TypeError`` for anything else; adapters turn that into an
    :class:`~corefn.errors.EventShapeError` naming the field.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise TypeError("a boolean is not a time")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError) as exc:  # out of the platform's time_t range
            raise ValueError(f"epoch milliseconds {value!r} out of range") from exc
    if not isinstance(value, str):
        raise TypeError(f"expected a time, got {type(value).__name__}")
    text = value.strip()
    if "." in text:  # fromisoformat in 3.11 wants at most 6 fraction digits in some forms
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        if digits > 6:
            text = head + "." + tail[:6] + tail[digits:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # providers document UTC for zone-less stamps (e.g. Azure timers)
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, the JSON form's only time format."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# ----------------------------------------------------------------------------------- body


class Body:
    """Bytes that may arrive as text, bytes or base64, decoded only when read.

    ``content`` (bytes), ``text`` (str) and ``json()`` read like httpx's response. Equality is by
    content, so tests can compare bodies whatever their wire form.
    """

    __slots__ = ("_source", "_is_base64", "_content")

    def __init__(self, source: str | bytes | bytearray | memoryview | None = None, *, base64: bool = False) -> None:
        self._source: str | bytes | None
        self._is_base64 = base64
        if source is None or type(source) is str:  # what gateways send: decoded when read
            self._source = source
            self._content: bytes | None = None
            return
        if isinstance(source, (bytearray, memoryview)):
            source = bytes(source)
        self._source = source
        self._content = source if isinstance(source, bytes) and not base64 else None

    @classmethod
    def of(cls, value: Body | str | bytes | bytearray | memoryview | None) -> Body:
        return value if isinstance(value, Body) else cls(value)

    @property
    def content(self) -> bytes:
        content = self._content
        if content is None:
            source = self._source
            if source is None:
                content = b""
            elif self._is_base64:
                content = b64decode(source, validate=False)
            else:
                content = source.encode() if isinstance(source, str) else source
            self._content = content
        return content

    @property
    def text(self) -> str:
        """The body as UTF-8 text; undecodable bytes become U+FFFD rather than an exception."""
        source = self._source
        if isinstance(source, str) and not self._is_base64:
            return source
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        source = self._source
        return json.loads(source if isinstance(source, str) and not self._is_base64 else self.content)

    def is_text(self) -> bool:
        """True when the content is valid UTF-8, i.e. the JSON form can show it as text."""
        if isinstance(self._source, str) and not self._is_base64:
            return True
        try:
            self.content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def to_json_value(self) -> tuple[str, bool]:
        """(text, is_base64) for the JSON form: text when UTF-8, base64 otherwise."""
        if self.is_text():
            return self.text, False
        return binascii.b2a_base64(self.content, newline=False).decode("ascii"), True

    def __len__(self) -> int:
        return len(self.content)

    def __bool__(self) -> bool:
        return bool(self._source)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Body):
            return self.content == other.content
        if isinstance(other, (bytes, str)):
            return self.content == (other.encode() if isinstance(other, str) else other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.content)

    def __repr__(self) -> str:
        shown = self.content[:40]
        return f"Body({shown!r}{'...' if len(self.content) > 40 else ''})"


def b64decode(data: str | bytes, validate: bool = False) -> bytes:
    """What ``base64.b64decode(data, validate=validate)`` returns or raises (``ValueError``, or
    its subclass ``binascii.Error``), without importing :mod:`base64`: it imports ``re`` and
    ``enum``, which a Lambda cold start otherwise does without. ``validate=True`` refuses any
    character outside the base64 alphabet; ``False`` skips them, as :mod:`base64` does."""
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("string argument should contain only ASCII characters") from None
    return binascii.a2b_base64(data, strict_mode=validate)


def check_base64(value: str) -> None:
    """Raise ``ValueError`` if ``value`` is not base64, so adapters fail at parse time."""
    try:
        b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ValueError(f"not base64: {exc}") from None


# -------------------------------------------------------------------------------- headers

HeaderSource = Mapping[str, "Any"] | Iterable[tuple[str, str]] | None


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued HTTP headers; ``headers["x"]`` joins repeats with ", ".

    Built from whatever the provider sends (a dict of str, a dict of lists, or pairs) and
    case-folded on first access only.
    """

    __slots__ = ("_source", "_map")

    def __init__(self, source: HeaderSource = None) -> None:
        self._source = source
        self._map: dict[str, list[str]] | None = None

    def _values(self) -> dict[str, list[str]]:
        mapped = self._map
        if mapped is None:
            source = self._source
            # The common case (API Gateway v2, Function URLs, ALB, most gateways): a dict of
            # single strings, folded in one comprehension unless two names fold together.
            if type(source) is dict and all(type(v) is str for v in source.values()):
                mapped = {name.lower(): [value] for name, value in source.items()}
                if len(mapped) == len(source):
                    self._map = mapped
                    return mapped
            mapped = {}
            items: Iterable[tuple[str, Any]] = (
                () if source is None else source.items() if isinstance(source, Mapping) else source
            )
            for name, value in items:
                bucket = mapped.setdefault(name.lower(), [])
                if isinstance(value, (list, tuple)):
                    bucket.extend(str(v) for v in value)
                elif value is not None:
                    bucket.append(str(value))
            self._map = mapped
        return mapped

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._values()[name.lower()])

    if TYPE_CHECKING:  # typing.overload is the type checker's: typing is not imported at run time

        @overload
        def get(self, name: str) -> str | None: ...
        @overload
        def get(self, name: str, default: str | _T) -> str | _T: ...

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get would raise and catch
        values = self._values().get(name.lower())
        if values is None:
            return default
        return values[0] if len(values) == 1 else ", ".join(values)

    def get_all(self, name: str) -> list[str]:
        return list(self._values().get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def to_dict(self) -> dict[str, str]:
        return {name: ", ".join(values) for name, values in self._values().items()}

    def __repr__(self) -> str:
        return f"Headers({self.to_dict()!r})"


# ---------------------------------------------------------------------------------- query


class Query(Mapping[str, str]):
    """Query parameters in order; ``query["a"]`` is the first value, ``get_all`` every value.

    Built from a raw query string (parsed lazily: every repeat kept, ``+`` and ``%xx`` decoded)
    or from a mapping of name to value or list of values.
    """

    __slots__ = ("_source", "_map")

    def __init__(self, source: str | Mapping[str, Any] | None = None) -> None:
        self._source = source
        self._map: dict[str, list[str]] | None = None

    def _values(self) -> dict[str, list[str]]:
        mapped = self._map
        if mapped is None:
            mapped = {}
            source = self._source
            if isinstance(source, str):
                for part in source.lstrip("?").split("&"):
                    if not part:
                        continue
                    name, _, value = part.partition("=")
                    if "%" in part or "+" in part:
                        from urllib.parse import unquote_plus

                        name, value = unquote_plus(name), unquote_plus(value)
                    mapped.setdefault(name, []).append(value)
            elif source:
                for name, value in source.items():
                    if isinstance(value, (list, tuple)):
                        mapped[name] = [str(v) for v in value]
                    elif value is not None:
                        mapped[name] = [str(value)]
            self._map = mapped
        return mapped

    def __getitem__(self, name: str) -> str:
        return self._values()[name][0]

    if TYPE_CHECKING:  # typing.overload is the type checker's: typing is not imported at run time

        @overload
        def get(self, name: str) -> str | None: ...
        @overload
        def get(self, name: str, default: str | _T) -> str | _T: ...

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get would raise and catch
        values = self._values().get(name)
        return default if values is None else values[0]

    def get_all(self, name: str) -> list[str]:
        return list(self._values().get(name, ()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def to_dict(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self._values().items()}

    def __repr__(self) -> str:
        return f"Query({self.to_dict()!r})"


def decode_path(path: str) -> str:
    """Percent-decode a request path (``+`` stays ``+`` in paths, unlike in queries)."""
    if "%" not in path:
        return path
    from urllib.parse import unquote

    return unquote(path)


# ------------------------------------------------------------------------------ lazy maps


class LazyMap(Mapping[str, "Any"]):
    """A read-only mapping computed on first access, for typed attribute values
    (DynamoDB ``{"S": "x"}``, Firestore ``{"stringValue": "x"}``) that most handlers never read.
    """

    __slots__ = ("_factory", "_data")

    def __init__(self, factory: Callable[[], Mapping[str, Any]]) -> None:
        self._factory: Callable[[], Mapping[str, Any]] | None = factory
        self._data: Mapping[str, Any] | None = None

    def _get(self) -> Mapping[str, Any]:
        data = self._data
        if data is None:
            assert self._factory is not None
            data = self._data = self._factory()
            self._factory = None
        return data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._get()) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyMap({dict(self._get())!r})"


def plain(value: Any) -> Any:
    """Deep-convert mappings (lazy or not) and tuples to plain JSON containers."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------- event


class Event(Record):
    """Base of every corefn event: frozen, slotted, keyword-constructed.

    ``id`` is the provider's id for this event or record (message id, sequence number, ...),
    ``raw`` the provider's original payload for this record: the escape hatch a handler may use,
    knowing that reading it ties the handler to one cloud.
    """

    __slots__ = ("id", "raw")
    _hidden: ClassVar[frozenset[str]] = frozenset({"raw"})
    kind: ClassVar[str] = "event"
    id: str | None
    raw: Any

    def __init__(self, *, id: str | None = None, raw: Any = None) -> None:
        _set(self, "id", id)
        _set(self, "raw", raw)

    @property
    def identity(self) -> str | None:
        """What stays the same when the provider delivers this event again (the key
        ``idempotent=True`` deduplicates on): the provider's id by default. Kinds whose providers
        may give no id derive one from what identifies the change (see each kind); ``None`` when
        nothing does. Not part of the JSON form."""
        return self.id

    def to_dict(self) -> dict[str, Any]:
        """The event in corefn's JSON form (the contract ``corefn inspect`` prints)."""
        raise NotImplementedError


def body_fields(body: Body, name: str) -> dict[str, Any]:
    """``{name: text}`` or ``{name: base64, name_encoding: "base64"}`` for the JSON form."""
    text, is_b64 = body.to_json_value()
    return {name: text, f"{name}_encoding": "base64"} if is_b64 else {name: text}
