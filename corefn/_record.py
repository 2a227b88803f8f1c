"""Frozen, slotted value classes without the import-time cost of ``dataclasses``.

Why not dataclasses: every ``@dataclass(frozen=True, slots=True)`` generates and ``exec``s its
methods when the module is imported (about 0.3 ms a class, plus ~5 ms to import ``dataclasses``
and ``inspect``), and corefn's events and specs are imported on every cold start. Here each class
writes its ``__init__`` by hand (compiled once into the ``.pyc``) and inherits equality, ``repr``,
immutability and :meth:`Record.replace` from this small base, driven by ``__slots__``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

_set = object.__setattr__


class FrozenError(AttributeError):
    """Raised on assignment to a frozen record; ``.replace(...)`` makes a changed copy."""


class Record:
    """Base of corefn's frozen values. Subclasses list their fields in ``__slots__`` and set them
    in ``__init__`` with :data:`_set`; ``_fields`` is derived (base fields first).
    ``_hidden`` fields are left out of ``repr`` and equality (``raw`` payloads)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _hidden: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__slots__", ()):
                if not name.startswith("_") and name not in fields:
                    fields.append(name)
        cls._fields = tuple(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenError(f"{type(self).__name__} is frozen: use .replace({name}=...) for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        hidden = self._hidden
        return tuple(getattr(self, f) for f in self._fields if f not in hidden)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        hidden = self._hidden
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields if f not in hidden)
        return f"{type(self).__name__}({shown})"

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` applied (what ``dataclasses.replace`` does for dataclasses)."""
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        return type(self)(**values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), {f: getattr(self, f) for f in self._fields}))


def _rebuild(cls: type[Record], values: dict[str, Any]) -> Record:
    return cls(**values)
