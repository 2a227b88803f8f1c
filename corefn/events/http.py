"""HTTP requests and responses, whatever gateway delivered them.

``path`` is what the client asked for, percent-decoded, without an API Gateway stage prefix;
``params`` holds the route parameters the router matched (``/devices/{id}`` → ``{"id": ...}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from corefn._record import Record, _set
from corefn.events.base import Body, Event, Headers, Query, body_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn.auth import Auth

_NO_PARAMS: Mapping[str, str] = {}


class HttpRequest(Event):
    """One HTTP request. ``auth`` may be worked out on first read: an adapter whose gateway
    vouches for the caller in the payload (API Gateway's JWT authorizer claims) passes
    :func:`gateway_request` a ``vouch`` function instead of the identity, and most handlers never
    read ``req.auth``. Only identities that need no checking are deferred: reading them cannot
    fail, so nothing the payload contract requires is left for after the handler starts."""

    __slots__ = ("method", "path", "headers", "query", "body", "params", "cookies", "client_ip", "_auth", "_vouch")
    kind: ClassVar[str] = "http"
    method: str
    path: str
    headers: Headers
    query: Query
    body: Body
    params: Mapping[str, str]
    cookies: tuple[str, ...]
    client_ip: str | None
    _auth: Auth | None
    _vouch: Callable[[Any], Auth | None] | None

    def __init__(
        self,
        *,
        method: str,
        path: str,
        headers: Headers | Mapping[str, Any] | None = None,
        query: Query | str | Mapping[str, Any] | None = None,
        body: Body | str | bytes | None = None,
        params: Mapping[str, str] = _NO_PARAMS,
        cookies: tuple[str, ...] = (),
        client_ip: str | None = None,
        id: str | None = None,
        raw: Any = None,
        auth: Auth | None = None,
    ) -> None:
        # Adapters pass the lazy types already; plain values are for people building requests
        # by hand (tests, the local server), at the cost of one isinstance each.
        _set(self, "method", method)
        _set(self, "path", path)
        _set(self, "headers", headers if isinstance(headers, Headers) else Headers(headers))
        _set(self, "query", query if isinstance(query, Query) else Query(query))
        _set(self, "body", body if isinstance(body, Body) else Body.of(body))
        _set(self, "params", params)
        _set(self, "cookies", cookies)
        _set(self, "client_ip", client_ip)
        _set(self, "id", id)
        _set(self, "raw", raw)
        _set(self, "_auth", auth)
        _set(self, "_vouch", None)

    @property
    def auth(self) -> Auth | None:
        """The verified caller on a route with ``auth=`` (or whom a gateway vouched for), else
        ``None``."""
        vouch = self._vouch
        if vouch is not None:
            _set(self, "_auth", vouch(self.raw))
            _set(self, "_vouch", None)
        return self._auth

    @property
    def text(self) -> str:
        return self.body.text

    def json(self) -> Any:
        return self.body.json()

    @property
    def identity(self) -> str | None:
        """The client's ``Idempotency-Key`` header (IETF draft-ietf-httpapi-idempotency-key-header):
        a request id is new for every retry a client makes, so only the client can say two requests
        are the same."""
        return self.headers.get("idempotency-key")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "http",
            "method": self.method,
            "path": self.path,
            "headers": self.headers.to_dict(),
            "query": self.query.to_dict(),
        }
        out.update(body_fields(self.body, "body"))
        if self.params:
            out["params"] = dict(self.params)
        if self.cookies:
            out["cookies"] = list(self.cookies)
        if self.id is not None:
            out["id"] = self.id
        return out


def gateway_request(
    method: str, path: str, headers: Headers, query: Query, body: Body, cookies: tuple[str, ...],
    client_ip: str | None, id: str | None, raw: Any, auth: Auth | None,
    vouch: Callable[[Any], Auth | None] | None = None,
) -> HttpRequest:
    """An :class:`HttpRequest` from values an adapter has already checked and wrapped (the lazy
    Headers, Query and Body), by position: the busiest gateways build one per invocation, and
    eleven keyword arguments plus the constructor's conversions cost a third of a warm round
    trip's reading. People building requests by hand use the constructor.

    ``vouch``, when given, is called with ``raw`` the first time ``req.auth`` is read, and its
    answer is ``req.auth`` (``auth`` is then ignored): for identities a gateway vouched for in the
    payload, which need no checking and which most handlers never read."""
    request = object.__new__(HttpRequest)
    _set(request, "method", method)
    _set(request, "path", path)
    _set(request, "headers", headers)
    _set(request, "query", query)
    _set(request, "body", body)
    _set(request, "params", _NO_PARAMS)
    _set(request, "cookies", cookies)
    _set(request, "client_ip", client_ip)
    _set(request, "id", id)
    _set(request, "raw", raw)
    _set(request, "_auth", auth)
    _set(request, "_vouch", vouch)
    return request


#: ``auth`` is a property (computed on first read) but still a field: in ``repr``, equality and
#: :meth:`~corefn._record.Record.replace`, as when it was a slot
HttpRequest._fields = (*HttpRequest._fields, "auth")


class HttpResponse(Record):
    """What an HTTP handler answers. Handlers may also return ``str`` (text/plain), ``bytes``
    (application/octet-stream), a dict or list (JSON) or ``None`` (204); see :func:`as_response`.

    ``body`` takes the same values, so ``HttpResponse(201, {"location": url}, {"id": 7})`` works:
    ``bytes`` (or ``bytearray`` / ``memoryview``) as is; ``str`` as UTF-8, ``text/plain`` unless
    ``headers`` name a content type; a dict, list or tuple as compact JSON (what
    :meth:`json` writes), ``application/json`` unless ``headers`` name a type; ``None`` as no
    body. Anything else is refused here, with a TypeError, rather than deep in an adapter.
    """

    __slots__ = ("status", "headers", "body", "cookies")
    status: int
    headers: Mapping[str, str]
    body: bytes
    cookies: tuple[str, ...]

    def __init__(
        self,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        body: bytes | bytearray | memoryview | str | dict[str, Any] | list[Any] | tuple[Any, ...] | None = b"",
        cookies: tuple[str, ...] = (),
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"HttpResponse status must be an int from 100 to 599, got {status!r}")
        headers = headers if headers is not None else {}
        if not isinstance(body, bytes):
            body, default_type = _body_bytes(body)
            if default_type and not any(name.lower() == "content-type" for name in headers):
                headers = {**headers, "content-type": default_type}
        _set(self, "status", status)
        _set(self, "headers", headers)
        _set(self, "body", body)
        _set(self, "cookies", cookies)

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
        headers = {"content-type": "application/json", **headers} if headers else {"content-type": "application/json"}
        if cls is not HttpResponse or type(status) is not int or not 100 <= status <= 599:
            return cls(status, headers, json_bytes(value))  # __init__ explains a bad status
        response = object.__new__(HttpResponse)  # the checks __init__ would make are made
        _set(response, "status", status)
        _set(response, "headers", headers)
        _set(response, "body", json_bytes(value))
        _set(response, "cookies", ())
        return response

    @classmethod
    def text(cls, value: str, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return cls(status, {"content-type": "text/plain; charset=utf-8", **(headers or {})}, value.encode())

    @property
    def content_type(self) -> str:
        headers = self.headers
        found = headers.get("content-type")  # how corefn itself spells it: no loop on the hot path
        if found is not None:
            return found
        for name, value in headers.items():
            if name.lower() == "content-type":
                return value
        return ""

    def is_text(self) -> bool:
        """Whether gateways can carry the body as text; otherwise adapters base64 it."""
        if textual_type(self.content_type):
            try:
                self.body.decode("utf-8")
            except UnicodeDecodeError:
                return False
            return True
        return not self.body

    def encoded_body(self) -> tuple[str, bool]:
        """``(body, is_base64)`` for gateways that carry bodies as JSON strings (API Gateway,
        ALB, Function URLs, Azure's host): text when :meth:`is_text`, base64 otherwise."""
        body = self.body
        if not body:
            return "", False
        if textual_type(self.content_type):
            try:
                return body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass
        import base64

        return base64.b64encode(body).decode("ascii"), True

    def with_headers(self, extra: Mapping[str, str]) -> HttpResponse:
        return HttpResponse(self.status, {**self.headers, **extra}, self.body, self.cookies)


TEXT_TYPES = frozenset({"application/x-www-form-urlencoded", "application/graphql", "image/svg+xml"})

#: content type header value -> textual, for the few distinct values an app answers with (a
#: response's type is read on every HTTP answer; its parsing is the same each time)
_TEXTUAL: dict[str, bool] = {}


def textual_type(content_type: str) -> bool:
    """Whether a body of this ``Content-Type`` is text a gateway can carry as a JSON string."""
    known = _TEXTUAL.get(content_type)
    if known is None:
        kind = content_type.split(";")[0].strip().lower()
        known = kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) or kind in TEXT_TYPES
        if len(_TEXTUAL) < 256:  # bounded: a handler could echo arbitrary types
            _TEXTUAL[content_type] = known
    return known


_chunks: Callable[[Any, bool], Iterable[str]] | None = None


def json_bytes(value: Any) -> bytes:
    """Compact JSON (``default=str``), as every JSON answer is written.

    ``json.dumps`` with options builds a new ``JSONEncoder`` on every call, and every
    ``JSONEncoder.encode`` builds a new C encoder: together more than the rest of a warm round
    trip's answer. So the C encoder (``json.encoder.c_make_encoder``, CPython's ``_json``) is
    built once, without the circular-reference memo, which would be shared between threads
    answering at once: a cyclic value fails with ``RecursionError`` instead of ``ValueError``,
    an error either way (the handler's answer becomes a 500). Where ``_json`` is missing, the
    pure-Python encoder does the same work."""
    global _chunks
    chunks = _chunks
    if chunks is None:
        import json.encoder as encoder

        make: Any = getattr(encoder, "c_make_encoder", None)  # untyped: CPython's _json
        if make is None:  # pragma: no cover - CPython always has _json
            chunks = encoder.JSONEncoder(separators=(",", ":"), default=str).iterencode
        else:
            chunks = make(None, str, encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
        _chunks = chunks
    return "".join(chunks(value, False)).encode()


def _body_bytes(body: Any) -> tuple[bytes, str | None]:
    """A response body given as another value than bytes, and the content type it implies."""
    if body is None:
        return b"", None
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body), None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(body, (dict, list, tuple)):
        return json_bytes(body), "application/json"
    raise TypeError(
        f"HttpResponse body must be bytes, str, a dict or list (sent as JSON) or None, got {type(body).__name__}"
    )


def as_response(result: Any) -> HttpResponse:
    """What an HTTP handler returned, as an :class:`HttpResponse`. (A payload shape's
    ``to_response`` is another step: it writes a dispatch result in its provider's form.)"""
    if isinstance(result, HttpResponse):
        return result
    if type(result) is dict:  # the commonest answer first
        return HttpResponse.json(result)
    if result is None:
        return HttpResponse(204)
    if isinstance(result, str):
        return HttpResponse.text(result)
    if isinstance(result, (bytes, bytearray, memoryview)):
        return HttpResponse(200, {"content-type": "application/octet-stream"}, bytes(result))
    if isinstance(result, (dict, list, tuple, int, float, bool)):
        return HttpResponse.json(result)
    raise TypeError(
        f"an HTTP handler returned {type(result).__name__}; return HttpResponse, str, bytes, dict, list or None"
    )
