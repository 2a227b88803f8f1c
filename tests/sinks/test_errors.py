"""The error mechanism every cloud's backends share (corefn.sinks._errors); each cloud's own
table is tested beside its backends (test_<cloud>_errors.py, test_ibm_*.py)."""

from __future__ import annotations

import sys

import pytest

from corefn.errors import MissingExtraError, SinkConflictError, SinkError, SinkNotFoundError, SinkThrottledError
from corefn.sinks._errors import from_status, retry_after, sdk_required, translated

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
