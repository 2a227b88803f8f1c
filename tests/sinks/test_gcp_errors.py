"""One mapping from google-api-core / google-auth exceptions (raised by every Google client
library, gRPC or REST) to the SinkError family."""

from __future__ import annotations

from typing import Any

import pytest

from corefn.errors import SinkConflictError, SinkError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn_gcp.sinks import google_errors, to_sink_error


def api_error(name: str, **kwargs: Any) -> Exception:
    from google.api_core import exceptions

    error: Exception = getattr(exceptions, name)("message", **kwargs)
    return error


@pytest.mark.parametrize(("name", "family"), [
    ("NotFound", SinkNotFoundError), ("AlreadyExists", SinkConflictError), ("Conflict", SinkConflictError),
    ("PreconditionFailed", SinkConflictError), ("TooManyRequests", SinkThrottledError),
    ("ResourceExhausted", SinkThrottledError), ("ServiceUnavailable", SinkUnavailableError),
    ("DeadlineExceeded", SinkUnavailableError), ("PermissionDenied", SinkUnavailableError),
    ("InvalidArgument", SinkError),
])  # fmt: skip
def test_api_errors(name: str, family: type[SinkError]) -> None:
    error = to_sink_error("s", api_error(name))
    assert type(error) is family
    assert error is not None and type(error.cause).__name__ == name


def test_retry_after_from_a_rest_response() -> None:
    class Response:
        headers = {"Retry-After": "30"}

    error = to_sink_error("s", api_error("TooManyRequests", response=Response()))
    assert isinstance(error, SinkThrottledError) and error.retry_after == 30.0


def test_transport_and_credential_failures_are_unavailable() -> None:
    import requests
    from google.api_core.exceptions import RetryError
    from google.auth.exceptions import DefaultCredentialsError

    for exc in (RetryError("gave up", None), DefaultCredentialsError("no ADC"), requests.ConnectionError("refused")):
        assert type(to_sink_error("s", exc)) is SinkUnavailableError


def test_context_manager_lets_other_errors_through() -> None:
    with pytest.raises(SinkNotFoundError), google_errors("s"):
        raise api_error("NotFound")
    with pytest.raises(ZeroDivisionError), google_errors("s"):
        raise ZeroDivisionError
