"""The Choice rules' comparisons and paths, as Step Functions' Choice state reads them: numbers
compare with numbers, strings with strings, a missing path is false for every operator but
``exists``."""

from __future__ import annotations

from typing import Any

import pytest

from corefn.flows.engine import _MISSING, _compare, lookup

DATA = {"size": 12, "kind": "jpeg", "tags": ["a", "b"], "meta": {"ok": True, "w": 2.5}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [("size", 12), ("meta.ok", True), ("tags.1", "b"), ("", DATA), ("tags.2", _MISSING), ("nope.x", _MISSING), ("size.x", _MISSING)],
)
def test_lookup_follows_dotted_paths(path: str, expected: Any) -> None:
    found = lookup(DATA, path)
    assert (found is _MISSING) if expected is _MISSING else (found == expected)


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"),
    [
        ("size", ">", 10, True),
        ("size", ">=", 12, True),
        ("size", "<", 12.5, True),
        ("meta.w", "<=", 2, False),
        ("size", ">", "10", False),  # a number is not compared with a string
        ("kind", "<", "png", True),  # strings compare with strings
        ("meta.ok", ">", 0, False),  # booleans are not numbers here
        ("kind", "==", "jpeg", True),
        ("kind", "!=", "jpeg", False),
        ("kind", "in", ("jpeg", "png"), True),
        ("size", "in", ("12",), False),
        ("meta.ok", "exists", True, True),
        ("meta.gone", "exists", False, True),
        ("meta.gone", "!=", "x", False),  # absent: false for every operator but exists
        ("meta.gone", "==", None, False),
    ],
)
def test_compare(path: str, op: str, value: Any, expected: bool) -> None:
    assert _compare(op, lookup(DATA, path), value) is expected
