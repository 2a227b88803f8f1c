"""The checks the document-store table backends share (corefn.sinks._tables); each backend runs
the table contract against its emulator as well."""

from __future__ import annotations

from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkConflictError, SinkNotFoundError
from corefn.sinks._tables import check_sort, check_sort_op, gone_is_conflict, item_fields, key_names
from tests.sinks.contract import make_spec

OPERATORS = ("=", "<", "<=", ">", ">=")


def test_key_names_default_to_id_and_no_sort_key() -> None:
    assert key_names(make_spec("table")) == ("id", None)
    assert key_names(make_spec("table", key="pk", sort_key="sk")) == ("pk", "sk")


def test_item_fields_drop_the_version_and_need_the_keys() -> None:
    assert item_fields("s", {"pk": "a", "sk": 1, "_version": "v1", "n": None}, "pk", "sk") == {"pk": "a", "sk": 1, "n": None}
    for bad in ({"sk": 1}, {"pk": "a"}, {"pk": None, "sk": 1}, ["pk"], "pk"):
        with pytest.raises(ConfigurationError):
            item_fields("s", bad, "pk", "sk")


def test_check_sort() -> None:
    check_sort("s", None, None)
    check_sort("s", "sk", 0)  # a falsy sort value is still a value
    with pytest.raises(ConfigurationError, match="pass it too"):
        check_sort("s", "sk", None)
    with pytest.raises(ConfigurationError, match="no sort key"):
        check_sort("s", None, "x")


@pytest.mark.parametrize(("sort_key", "op", "value", "problem"), [
    (None, "=", "x", "no sort key"), ("sk", "~", "x", "must be one of"), ("sk", "begins_with", 5, "needs a string"),
])  # fmt: skip
def test_check_sort_op_refuses(sort_key: str | None, op: str, value: Any, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        check_sort_op("s", sort_key, op, value, OPERATORS)


def test_check_sort_op_accepts() -> None:
    check_sort_op("s", None, None, None, OPERATORS)
    for op in OPERATORS:
        check_sort_op("s", "sk", op, 3, OPERATORS)
    check_sort_op("s", "sk", "begins_with", "", OPERATORS)


def test_a_conditional_write_to_a_gone_item_is_a_conflict() -> None:
    cause = RuntimeError("404")
    with pytest.raises(SinkConflictError) as caught, gone_is_conflict("s", "etag-1"):
        raise SinkNotFoundError("s", "gone", cause)
    assert caught.value.cause is cause
    with pytest.raises(SinkNotFoundError), gone_is_conflict("s", None):  # unconditional: a missing table stays itself
        raise SinkNotFoundError("s", "no table")
