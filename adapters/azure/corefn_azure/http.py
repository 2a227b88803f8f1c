"""HTTP: ``func.HttpRequest`` in, ``func.HttpResponse`` out (binary bodies as bytes, cookies as
repeated ``Set-Cookie`` headers), and the host's custom-handler HTTP envelope for ``inspect``.

``path`` is the path the client requested. Azure puts every HTTP function under
``host.json``'s ``extensions.http.routePrefix`` (``api`` by default); the generated ``host.json``
sets it to ``""`` so that the URL path is the route the app declared. Query parameters are read
from the URL so that repeated names keep every value (``func.HttpRequest.params`` keeps one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from corefn.events import Body, Event, HttpRequest, HttpResponse
from corefn.events.base import Headers, Query, decode_path
from corefn.kit import Failure, PayloadShape
from corefn_azure._auth import vouched_identity
from corefn_azure._common import (
    PROVIDER,
    binding_object,
    body_of,
    decode_json_text,
    is_binding,
    str_value,
)
from corefn_azure._envelope import envelope_parts, host_parts

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult


def client_ip(headers: Headers) -> str | None:
    """The caller's address: Azure's front end puts it first in ``X-Forwarded-For``, as
    ``ip:port`` for IPv4 (``[ip]:port`` for IPv6)."""
    first = headers.get("x-forwarded-for", "").split(",")[0].strip()
    if not first:
        return None
    if first.startswith("["):
        return first[1:].partition("]")[0] or None
    host, sep, port = first.rpartition(":")
    return host if sep and port.isdigit() and host.count(":") == 0 else first


def _response(result: DispatchResult) -> HttpResponse:
    response = result.response
    if response is None:  # an HTTP shape always dispatches one request
        raise RuntimeError("HTTP dispatch produced no response")
    return response


class HttpRequestObject(PayloadShape):
    """``func.HttpRequest`` from ``@app.route``."""

    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "http-request"
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT  # an HTTP 500

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_binding(raw, "HttpRequest")

    def to_events(self) -> list[Event]:
        r = self.reader
        req = binding_object(r, self.raw, "HttpRequest")
        method = str_value(r, req.method, "method", required=True)
        url = urlsplit(str_value(r, req.url, "url", required=True) or "")
        query: Query = Query(url.query) if url.query else Query(dict(req.params or {}))
        body = req.get_body()
        headers = Headers(dict(req.headers or {}))
        return [
            HttpRequest(
                method=(method or "").upper(),
                path=decode_path(url.path or "/"),
                headers=headers,
                query=query,
                body=Body(body if isinstance(body, (bytes, str)) else None),
                params=dict(req.route_params or {}),
                client_ip=client_ip(headers),
                raw=req,
                auth=vouched_identity(headers),
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        import azure.functions as func

        response = _response(result)
        headers = dict(response.headers)
        mimetype, _, params = response.content_type.partition(";")
        charset = params.partition("charset=")[2].strip() or None
        out = func.HttpResponse(
            body=response.body,
            status_code=response.status,
            headers=headers,
            mimetype=mimetype.strip() or None,
            charset=charset,
        )
        for cookie in response.cookies:
            out.headers.add_header("Set-Cookie", cookie)
        return out


class HostHttp(PayloadShape):
    """Host envelope of an HTTP trigger: ``Data.<name>`` holds ``Url``, ``Method``, ``Query`` (an
    object, or its JSON text), ``Headers`` (name → list), ``Params`` (route values) and ``Body``."""

    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "host-http"
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT  # an HTTP 500 in the host response

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and isinstance(parts[0], dict) and "Method" in parts[0] and "Url" in parts[0]

    def to_events(self) -> list[Event]:
        r = self.reader
        req, _ = host_parts(r, self.raw)
        url = urlsplit(r.str(req, "Url", at="Data"))
        query = decode_json_text(req.get("Query"))
        if url.query:
            parsed = Query(url.query)
        elif query is None or isinstance(query, dict):
            parsed = Query(query)
        else:
            raise r.error("Data.Query", "should be an object or its JSON text")
        headers = Headers(r.opt_dict(req, "Headers", at="Data"))
        return [
            HttpRequest(
                method=r.str(req, "Method", at="Data").upper(),
                path=decode_path(url.path or "/"),
                headers=headers,
                query=parsed,
                body=body_of(req.get("Body"), r, "Data.Body"),
                params={str(k): str(v) for k, v in r.opt_dict(req, "Params", at="Data").items()},
                raw=self.raw,
                auth=vouched_identity(headers),
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        """The custom-handler answer: ``Outputs.res`` is the HTTP output binding."""
        response = _response(result)
        text, _ = response.encoded_body()  # the host's answer has no base64 flag: see the module docstring
        res = {"statusCode": response.status, "headers": dict(response.headers), "body": text}
        return {"Outputs": {"res": res}, "Logs": [], "ReturnValue": None}
