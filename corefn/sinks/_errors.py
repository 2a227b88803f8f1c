"""One place that turns a provider's exception into the :class:`~corefn.errors.SinkError` family.

Each SDK gets one table (error code or exception type → family member) kept next to its backend;
:func:`wrap` applies a table, keeps the original as ``cause`` and chains it, so handler code
catches one thing on every cloud and a person debugging still sees the provider's own words.

The mechanism is shared, the tables are not: :func:`translated` is the one ``try``/``except``
every backend runs its SDK calls in (each cloud passes its own ``to_sink_error``),
:func:`from_status` applies an HTTP-status table (with ``Retry-After`` on a throttle), and
:func:`sdk_required` turns a missing SDK into the ``pip install 'corefn[extra]'`` to run.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from corefn.errors import (
    ConfigurationError,
    MissingExtraError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)

ErrorClass = type[SinkError]
T = TypeVar("T")


def wrap(sink: str, exc: BaseException, family: type[SinkError] | None, message: str | None = None) -> SinkError:
    """A SinkError of ``family`` (plain :class:`SinkError` when ``None``) wrapping ``exc``."""
    error = (family or SinkError)(sink, message or f"{type(exc).__name__}: {exc}", cause=exc)
    error.__cause__ = exc
    return error


def family_by_type(exc: BaseException, table: Mapping[str, ErrorClass]) -> ErrorClass | None:
    """The family of the nearest class in ``exc``'s MRO named in ``table``. Tables name classes
    as strings (``"redis.exceptions.ConnectionError"``) so that building one imports no SDK."""
    for cls in type(exc).__mro__:
        family = table.get(f"{cls.__module__}.{cls.__qualname__}")
        if family is not None:
            return family
    return None


#: what each cloud's backends translate with: (sink, exception) → SinkError, or None when the
#: exception is not the provider's (a bug of ours, which must stay itself)
Translate = Callable[[str, BaseException], SinkError | None]


@contextmanager
def translated(sink: str, translate: Translate) -> Iterator[None]:
    """Run a block, re-raising the provider's exceptions as ``translate`` maps them (the original
    chained and kept as ``cause``); SinkErrors and exceptions ``translate`` declines pass as they are."""
    try:
        yield
    except SinkError:
        raise
    except Exception as exc:
        error = translate(sink, exc)
        if error is None:
            raise
        raise error from exc


_END: Any = object()


def translated_items(sink: str, translate: Translate, items: Iterable[T]) -> Iterator[T]:
    """``items`` with each step translated: an SDK's lazy pager fetches the next page inside
    ``next()``, so a failure on page 3 must come out as the SinkError family too. Only the SDK's
    own steps run under translation, never the caller's code between them."""
    with translated(sink, translate):
        iterator = iter(items)
    while True:
        with translated(sink, translate):
            item = next(iterator, _END)
        if item is _END:
            return
        yield item


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header (any case), if it holds a number. The
    HTTP-date form (RFC 9110 §10.2.3) is not used by the services we talk to and gives None."""
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def from_status(
    sink: str, status: int, table: Mapping[int, ErrorClass], message: str, exc: BaseException, wait: float | None = None
) -> SinkError:
    """The family member ``table`` names for an HTTP ``status`` (plain SinkError if none); a
    throttle carries ``wait``, the seconds the service asked for (see :func:`retry_after`)."""
    family = table.get(status, SinkError)
    if family is SinkThrottledError:
        return SinkThrottledError(sink, message, exc, wait)
    return family(sink, message, exc)


#: top-level module of a missing import → the pip package to name (from the full module name)
SdkPackages = Mapping[str, Callable[[str], str]]


@contextmanager
def sdk_required(extra: str, packages: SdkPackages) -> Iterator[None]:
    """A missing SDK (one of ``packages``) fails with the pip command that installs it, not a
    bare ImportError; other missing modules are not ours to explain and stay as they are."""
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in packages:
            raise
        raise MissingExtraError(packages[top](str(exc.name)), extra) from exc


#: local file systems: errno → family (anything else is a plain SinkError)
OS_ERRORS: Mapping[int, ErrorClass] = {
    errno.ENOENT: SinkNotFoundError,
    errno.EACCES: SinkUnavailableError,
    errno.EPERM: SinkUnavailableError,
    errno.EROFS: SinkUnavailableError,
    errno.ENOSPC: SinkUnavailableError,
    errno.EDQUOT: SinkUnavailableError,
    errno.EIO: SinkUnavailableError,
    errno.EBUSY: SinkThrottledError,
    errno.EAGAIN: SinkThrottledError,
}

#: errors that say the key cannot exist on this file system (a file where a folder is needed)
OS_KEY_ERRORS = frozenset({errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTEMPTY})


def wrap_os(sink: str, key: str, exc: OSError) -> Exception:
    """An OSError from the local object store, named in the user's terms."""
    if exc.errno in OS_KEY_ERRORS:
        return ConfigurationError(
            f"sink {sink!r}: key {key!r} cannot be stored in a local folder ({exc.strerror}): "
            "a key may not be both an object and the prefix of another, e.g. 'a' and 'a/b'"
        )
    family = OS_ERRORS.get(exc.errno or 0)
    if family is SinkNotFoundError:
        return wrap(sink, exc, family, f"no object {key!r}")
    return wrap(sink, exc, family)


__all__ = [
    "OS_ERRORS",
    "family_by_type",
    "from_status",
    "retry_after",
    "sdk_required",
    "SinkConflictError",
    "translated",
    "translated_items",
    "wrap",
    "wrap_os",
]
