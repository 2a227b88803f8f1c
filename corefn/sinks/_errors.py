"""One place that turns a provider's exception into the :class:`~corefn.errors.SinkError` family.

Each SDK gets one table (error code or exception type → family member) kept next to its backend;
:func:`wrap` applies a table, keeps the original as ``cause`` and chains it, so handler code
catches one thing on every cloud and a person debugging still sees the provider's own words.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping

from corefn.errors import (
    ConfigurationError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)

ErrorClass = type[SinkError]


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
    "SinkConflictError",
    "wrap",
    "wrap_os",
]
