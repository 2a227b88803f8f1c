"""Secrets by reference: a setting whose value is ``<scheme>:<reference>`` (no ``//`` after the
colon, so a sink URL is never one) is fetched from the secret store that scheme names, once per
process, and kept in memory only.

Why: a deployment template that copies a secret into an environment variable publishes it to
everyone who may read the function's configuration (``lambda:GetFunctionConfiguration``, the
console); a reference gives away nothing. Schemes come from the ``corefn.secrets`` entry-point
group (name = scheme, value = ``fetch(reference) -> str``), so each adapter brings its store:

==================================================  =========================================
value                                               store (module)
==================================================  =========================================
``secretsmanager:arn:aws:secretsmanager:...``       AWS Secrets Manager (:mod:`corefn_aws.secrets`)
``ssm:/path/to/parameter``                          AWS SSM Parameter Store (SecureString)
==================================================  =========================================
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from corefn.errors import ConfigurationError

ENTRY_POINT_GROUP = "corefn.secrets"
_REFERENCE = re.compile(r"^([a-z][a-z0-9-]*):(?!//)(.+)$", re.S)

_values: dict[str, str] = {}
_lock = threading.Lock()
_fetchers: dict[str, Any] | None = None


def _fetcher(scheme: str) -> Callable[[str], str] | None:
    global _fetchers
    if _fetchers is None:
        from importlib.metadata import entry_points

        _fetchers = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found = _fetchers.get(scheme)
    if found is not None and not callable(found):
        found = _fetchers[scheme] = found.load()
    return found  # type: ignore[no-any-return]


def reference_of(value: str) -> tuple[str, str] | None:
    """``(scheme, reference)`` when ``value`` is a secret reference of an installed store."""
    match = _REFERENCE.match(value) if ":" in value else None
    if match is None or _fetcher(match.group(1)) is None:
        return None
    return match.group(1), match.group(2)


def resolve(value: str, setting: str = "a setting") -> str:
    """``value`` itself, or the secret it refers to (fetched on first use, then cached)."""
    found = reference_of(value)
    if found is None:
        return value
    with _lock:
        cached = _values.get(value)
        if cached is None:
            scheme, reference = found
            fetch = _fetcher(scheme)
            assert fetch is not None
            try:
                cached = fetch(reference)
            except ConfigurationError:
                raise
            except Exception as exc:
                raise ConfigurationError(f"{setting}: cannot read secret {reference!r} from {scheme}: {exc}") from exc
            if not isinstance(cached, str) or not cached:
                raise ConfigurationError(f"{setting}: secret {reference!r} in {scheme} is empty")
            _values[value] = cached
    return cached


def resolve_environment(names: Iterable[str]) -> None:
    """Replace each named environment variable holding a reference by its secret, in this
    process only (code that reads ``os.environ`` directly, like the API-key check, then sees the
    value; the function's configuration still holds the reference)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            resolved = resolve(value, name)
            if resolved is not value:
                os.environ[name] = resolved


def forget() -> None:
    """Drop cached secrets (tests; a rotated secret on a long-lived worker)."""
    global _fetchers
    with _lock:
        _values.clear()
        _fetchers = None
