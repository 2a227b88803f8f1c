"""HTTP functions: functions-framework hands the function a Flask request and sends back what
it returns. In: the request as an :class:`~corefn.events.HttpRequest`. Out: an
:class:`~corefn.events.HttpResponse` as a Flask response, bytes as they are (binary bodies need
no base64 on GCP: the function answers the client directly, with no gateway in between).

``path`` is the path functions-framework routes on: Cloud Functions strips the function's own
name from 1st gen URLs (``/FUNCTION/devices/1`` → ``/devices/1``) and 2nd gen URLs carry none.
Werkzeug has already percent-decoded it. The query is re-parsed from the raw query string so
every repeated value is kept in order.

Nothing here imports Flask until a response is built (cold start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events import Body, Event, Headers, HttpRequest, HttpResponse, Query
from corefn.kit import Failure, PayloadShape
from corefn.payload import Reader

if TYPE_CHECKING:
    import flask

    from corefn.dispatch import DispatchResult

#: the header functions-framework and Cloud Functions use for the execution id
EXECUTION_ID = "Function-Execution-Id"


def is_flask_request(raw: Any) -> bool:
    """A werkzeug/Flask request, recognised by shape so that Flask need not be imported."""
    return hasattr(raw, "environ") and hasattr(raw, "get_data") and hasattr(raw, "headers")


def flask_request(r: Reader, raw: Any) -> Any:
    """``raw``, checked to be a Flask request: a shape claims only requests, so anything else
    reached it through ``--shape`` (JSON, say) and is a named error, not an AttributeError."""
    if not is_flask_request(raw):
        raise r.error("$", "should be a Flask request")
    return raw


def client_ip(request: Any) -> str | None:
    """Google's front end appends the caller to ``X-Forwarded-For``; the first entry is the client."""
    forwarded: str = request.headers.get("X-Forwarded-For", "")
    first = forwarded.split(",")[0].strip()
    remote: str | None = request.remote_addr
    return first or remote


class FlaskHttp(PayloadShape):
    provider: ClassVar[str] = "gcp"
    name: ClassVar[str] = "http"
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT  # an HTTP 500

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_flask_request(raw)

    def to_events(self) -> list[Event]:
        request = flask_request(self.reader, self.raw)
        return [
            HttpRequest(
                method=request.method.upper(),
                path=request.path or "/",
                headers=Headers(list(request.headers.items())),
                query=Query(request.query_string.decode("utf-8", "replace")),
                body=Body(request.get_data(cache=True)),
                client_ip=client_ip(request),
                id=request.headers.get(EXECUTION_ID),
                raw=request,
            )
        ]

    def to_response(self, result: DispatchResult) -> flask.Response:
        assert result.response is not None, "an HTTP dispatch always yields a response"
        return to_flask_response(result.response)


def to_flask_response(response: HttpResponse) -> flask.Response:
    import flask

    out = flask.Response(response.body, status=response.status)
    out.headers.clear()  # Flask's default text/html content type must not leak into binary answers
    for name, value in response.headers.items():
        out.headers[name] = value
    for cookie in response.cookies:
        out.headers.add("Set-Cookie", cookie)
    return out
