"""One mapping from azure-core's exceptions (raised by every Azure SDK) to the SinkError family."""

from __future__ import annotations

from typing import Any

import pytest

from corefn.errors import (
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn_azure.sinks import azure_errors, retry_after, to_sink_error


class Response:
    """The attributes azure-core's HttpResponseError reads from a response."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.reason = "Reason"
        self.headers = headers or {}
        self.content_type = "application/json"
        self.request = None

    def text(self, encoding: str | None = None) -> str:
        return '{"error": {"code": "Code", "message": "message"}}'

    def body(self) -> bytes:
        return self.text().encode()


def http_error(status: int, headers: dict[str, str] | None = None) -> Any:
    from azure.core.exceptions import HttpResponseError

    return HttpResponseError(response=Response(status, headers))  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "family"), [
    (404, SinkNotFoundError), (410, SinkNotFoundError), (409, SinkConflictError), (412, SinkConflictError), (429, SinkThrottledError),
    (503, SinkThrottledError), (500, SinkUnavailableError), (403, SinkUnavailableError), (400, SinkError),
])  # fmt: skip
def test_status_codes(status: int, family: type[SinkError]) -> None:
    error = to_sink_error("s", http_error(status))
    assert type(error) is family
    assert error is not None and error.cause is not None and error.sink == "s"


def test_retry_after_is_kept() -> None:
    error = to_sink_error("s", http_error(503, {"Retry-After": "12"}))
    assert isinstance(error, SinkThrottledError) and error.retry_after == 12.0
    assert retry_after({"x-ms-retry-after-ms": "250"}) == 0.25  # Cosmos says it in milliseconds
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after(None) is None


def test_connection_failures_are_unavailable() -> None:
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    for exc in (ServiceRequestError("refused"), ServiceResponseError("reset")):
        assert type(to_sink_error("s", exc)) is SinkUnavailableError


def test_context_manager_chains_and_lets_other_errors_through() -> None:
    with pytest.raises(SinkNotFoundError) as caught, azure_errors("s"):
        raise http_error(404)
    assert caught.value.__cause__ is caught.value.cause
    with pytest.raises(KeyError), azure_errors("s"):
        raise KeyError("a bug of ours stays a bug")
