"""Reading an environment variable on the hot path of every invocation.

``os.environ.get(name)`` runs four Python-level functions (``Mapping.get``, ``__getitem__``, the
key encoder and the value decoder) and, for an unset name, raises and catches a ``KeyError``:
about 0.7 µs, and a warm Lambda round trip reads ``COREFN_APP``, ``COREFN_HANDLER`` and
``COREFN_NAMES`` each time (a handler may change the environment, and tests do, so the values
are read, not remembered). :func:`getenv` reads the same store ``os.environ`` writes through
(``os.environ[...] = ...`` and ``del`` update it, as ``monkeypatch.setenv`` does) with one dict
lookup: CPython's ``os._Environ._data``, bytes on POSIX. Anywhere that store is not what this
module expects, it falls back to ``os.environ.get``.
"""

from __future__ import annotations

import os
import sys

#: the class of ``os.environ`` whose store is known (a test may swap ``os.environ`` for a dict)
_ENVIRON = type(os.environ) if os.name == "posix" and isinstance(getattr(os.environ, "_data", None), dict) else None
_ENCODING = sys.getfilesystemencoding()
_keys: dict[str, bytes] = {}


def getenv(name: str) -> str | None:
    """``os.environ.get(name)``, in one dict lookup."""
    environ = os.environ
    if type(environ) is not _ENVIRON:
        return environ.get(name)
    key = _keys.get(name)
    if key is None:
        key = _keys[name] = name.encode(_ENCODING, "surrogateescape")
    value = environ._data.get(key)  # type: ignore[attr-defined]
    return None if value is None else value.decode(_ENCODING, "surrogateescape")
