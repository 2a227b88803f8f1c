"""Helpers for testing corefn apps and adapters: call an app as a cloud would, compare events
with the JSON-form contract, and generate mutated payloads for robustness tests.

``call(app, payload, cloud=...)`` runs a provider payload through :func:`corefn.adapters.handle`,
the one flow every generated entry point runs, and returns the provider's answer.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corefn.events.base import parse_time

if TYPE_CHECKING:
    from corefn.app import App

_env_lock = threading.RLock()  # re-entrant: a handler under test may call testing.call itself


def call(
    app: App,
    payload: Any,
    *,
    cloud: str,
    pinned: str | None = None,
    shape: str | None = None,
    names: Mapping[str, str] | None = None,
    env: Mapping[str, str | None] | None = None,
    invocation_id: str | None = None,
) -> Any:
    """Deliver ``payload`` to ``app`` through ``cloud``'s adapter exactly as its deployed entry
    point would; returns what the provider would receive back (HTTP response, partial batch
    failures, invoke result, ...) or raises what the function would raise.

    The deployment's settings are read as on the cloud: the pinned handler from ``pinned``, else
    ``COREFN_HANDLER``; physical → logical resource names from ``names``, else
    ``COREFN_NAMES``. ``env`` holds the variables the deployment would set (those two, sink
    URLs, ``COREFN_AWS_BATCH_FAILURES``, ...): they are in ``os.environ`` for the duration of the
    call only (``None`` removes one, say a ``COREFN_HANDLER`` from the developer's shell), under
    a lock, and the process environment is restored afterwards. ``shape``
    names the payload's shape, as an entry point that knows its trigger does (detected when
    omitted).
    """
    from corefn.adapters import get_adapter, handle, shape_named
    from corefn.context import Context

    adapter = get_adapter(cloud)
    found = shape_named(adapter, shape) if shape is not None else None

    def deliver() -> Any:
        ctx = Context(cloud=cloud, app=app, invocation_id=invocation_id)
        return handle(adapter, app, payload, ctx, pinned=pinned, shape=found, names=names)

    if not env:
        return deliver()
    with _env_lock:
        saved = {name: os.environ.get(name) for name in env}
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            return deliver()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def load_payload(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def payload_files(root: str | Path, cloud: str | None = None) -> Iterator[Path]:
    """Every payload file under ``root/<cloud>/`` (expected files excluded), sorted."""
    base = Path(root)
    folders = [base / cloud] if cloud else sorted(p for p in base.iterdir() if p.is_dir())
    for folder in folders:
        yield from sorted(p for p in folder.glob("*.json") if not p.name.endswith(".expected.json"))


# --------------------------------------------------------------------- contract comparison

SUBSET_KEYS = frozenset({"headers", "attributes"})


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not ("Z" in value or "+" in value[10:] or "-" in value[10:]):
        return None
    try:
        parsed = parse_time(value)
    except (ValueError, TypeError):
        return None
    return parsed.astimezone(UTC) if parsed else None


def mismatch(expected: Any, actual: Any, path: str = "$", subset: bool = False) -> str | None:
    """The first difference between an expected JSON-form value and an actual one, or None.

    The rules of ``shared/tools/check-inspect``: expected event keys must be present (extra keys
    pass); ``headers`` and ``attributes`` match as subsets; numbers compare numerically but never
    equal bools or strings; event ``time`` values compare as UTC instants.
    """
    bad = f"{path}: expected {json.dumps(expected)[:80]} got {json.dumps(actual, default=str)[:80]}"
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if path.endswith(".time") and isinstance(expected, str):
            return None if _time(expected) is not None and _time(expected) == _time(actual) else bad
        return None if type(actual) is type(expected) and actual == expected else bad
    if isinstance(expected, (int, float)):
        ok = isinstance(actual, (int, float)) and not isinstance(actual, bool) and float(actual) == float(expected)
        return None if ok else bad
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return bad
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = mismatch(e, a, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return bad
        is_event = path.endswith("]") and ".events[" in path
        if not subset and not is_event and set(actual) != set(expected):
            return f"{path}: keys differ: expected {sorted(expected)} got {sorted(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing"
            found = mismatch(value, actual[key], f"{path}.{key}", subset=key in SUBSET_KEYS)
            if found:
                return found
        return None
    return bad


def assert_matches(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """Assert ``corefn inspect`` output matches an expected file (cloud and events; ``shape``
    is checked only when the expected file names one)."""
    assert actual.get("cloud") == expected.get("cloud"), f"cloud: expected {expected.get('cloud')} got {actual.get('cloud')}"
    if "shape" in expected:
        assert actual.get("shape") == expected["shape"], f"shape: expected {expected['shape']} got {actual.get('shape')}"
    found = mismatch(expected["events"], actual["events"], "$.events")
    assert found is None, found


# ------------------------------------------------------------------------------- mutations


def mutations(payload: Any) -> Any:
    """A hypothesis strategy of payloads derived from ``payload`` by one to three structural
    mutations: a key removed, a value replaced by another JSON type, a list emptied or a string
    garbled. Adapters must answer each with events or a documented CorefnError, nothing else."""
    from hypothesis import strategies as st

    paths = list(_paths(payload))
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    )
    one = st.tuples(st.sampled_from(paths), st.sampled_from(["delete", "replace"]), junk)
    return st.lists(one, min_size=1, max_size=3).map(lambda ops: _apply(payload, ops))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, (*prefix, index))


def _apply(payload: Any, ops: list[tuple[tuple[Any, ...], str, Any]]) -> Any:
    data = json.loads(json.dumps(payload))
    for path, op, junk in ops:
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            if op == "delete":
                del parent[last]
            else:
                parent[last] = junk
        except (KeyError, IndexError, TypeError):
            continue
    return data
