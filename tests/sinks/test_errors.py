"""The error mechanism and stream wrappers every cloud's backends share (corefn.sinks._errors,
corefn.sinks._streams); each cloud's own table is tested beside its backends
(test_<cloud>_errors.py, test_ibm_*.py)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from corefn.errors import MissingExtraError, SinkConflictError, SinkError, SinkNotFoundError, SinkThrottledError
from corefn.sinks._errors import from_status, retry_after, sdk_required, translated, translated_items
from corefn.sinks._streams import CountingReader, TranslatedReader

TABLE = {404: SinkNotFoundError, 409: SinkConflictError, 429: SinkThrottledError}


def _only_lookup_errors(sink: str, exc: BaseException) -> SinkError | None:
    return SinkNotFoundError(sink, "gone", exc) if isinstance(exc, LookupError) else None


def test_translated_maps_chains_and_lets_the_rest_through() -> None:
    original = KeyError("k")
    with pytest.raises(SinkNotFoundError) as caught, translated("s", _only_lookup_errors):
        raise original
    assert caught.value.__cause__ is original and caught.value.cause is original and caught.value.sink == "s"
    with pytest.raises(ZeroDivisionError), translated("s", _only_lookup_errors):
        raise ZeroDivisionError  # not the provider's: a bug of ours stays itself
    already = SinkConflictError("other", "lost")
    with pytest.raises(SinkConflictError) as kept, translated("s", _only_lookup_errors):
        raise already
    assert kept.value is already


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"Retry-After": "12"}, 12.0), ({"retry-after": "0.5"}, 0.5), ({"RETRY-AFTER": "3"}, 3.0),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None), ({"Retry-After": None}, None), ({}, None), (None, None),
])  # fmt: skip
def test_retry_after(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_from_status_applies_the_table() -> None:
    cause = RuntimeError("x")
    throttled = from_status("s", 429, TABLE, "slow down", cause, 7.0)
    assert type(throttled) is SinkThrottledError and throttled.retry_after == 7.0 and throttled.cause is cause
    assert type(from_status("s", 404, TABLE, "m", cause, 7.0)) is SinkNotFoundError
    assert type(from_status("s", 400, TABLE, "m", cause)) is SinkError
    assert str(from_status("s", 409, TABLE, "lost the race", cause)) == "sink 's': lost the race"


def test_sdk_required_names_the_package_of_its_own_sdks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    packages = {"fakesdk": lambda name: name.replace(".", "-")}
    monkeypatch.setitem(sys.modules, "fakesdk.storage", None)
    with pytest.raises(MissingExtraError) as caught, sdk_required("fake", packages):
        import fakesdk.storage  # type: ignore[import-not-found]  # noqa: F401
    assert caught.value.package == "fakesdk-storage" and caught.value.extra == "fake"
    assert "pip install 'corefn[fake]'" in str(caught.value)
    monkeypatch.setitem(sys.modules, "fakesdkextras", None)  # same prefix, another top-level package
    with pytest.raises(ModuleNotFoundError) as other, sdk_required("fake", packages):
        import fakesdkextras  # type: ignore[import-not-found]  # noqa: F401
    assert not isinstance(other.value, MissingExtraError)


def test_translated_items_translates_each_step_lazily() -> None:
    steps: list[str] = []

    def pager() -> Iterator[int]:
        steps.append("page 1")
        yield 1
        steps.append("page 2")
        raise KeyError("page 2 is gone")

    items = translated_items("s", _only_lookup_errors, pager())
    assert steps == []  # nothing asked of the service before the caller reads
    assert next(items) == 1
    with pytest.raises(SinkNotFoundError):
        next(items)


def test_translated_reader_translates_read_errors_and_closes_the_sdk_reader_once() -> None:
    closed: list[bool] = []
    chunks = iter([b"abc", KeyError("connection dropped")])

    def read(size: int) -> bytes:
        chunk = next(chunks)
        if isinstance(chunk, BaseException):
            raise chunk
        return chunk

    stream = io.BufferedReader(TranslatedReader(read, "s", _only_lookup_errors, lambda: closed.append(True)))
    assert stream.read(3) == b"abc"
    with pytest.raises(SinkNotFoundError):
        stream.read(3)
    stream.close()
    stream.close()
    assert closed == [True]


class _ReadOnly:
    """A one-pass source with ``read`` and no ``readinto`` (as some HTTP bodies are)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


@pytest.mark.parametrize("make_source", [io.BytesIO, _ReadOnly], ids=["readinto", "read-only"])
def test_counting_reader_counts_what_was_read(make_source: Any) -> None:
    counted = CountingReader(make_source(b"x" * 10_000))
    assert len(counted.read(4096)) == 4096 and counted.tell() == 4096
    assert len(counted.read()) == 10_000 - 4096
    assert counted.count == counted.tell() == 10_000
