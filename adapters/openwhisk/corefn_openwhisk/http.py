"""Web actions: an HTTP request delivered as action parameters, answered with
``{"statusCode", "headers", "body"}``.

What OpenWhisk passes (apache/openwhisk ``docs/webactions.md``, ``WebActions.scala``):

- ``__ow_method`` (lower case), ``__ow_headers`` (lower-case names), ``__ow_path`` (the path
  after the action's URL: ``.../web/ns/pkg/action.http/devices/7`` gives ``/devices/7``; routes
  are matched against it, ``""`` meaning ``/``).
- ``__ow_body``: the entity as text, or base64 when OpenWhisk deems the content type binary.
  That rule is the controller's, not the payload's: base64 for ``application/json`` (kept "for
  legacy") and for every media type Akka HTTP marks binary (``application/octet-stream``,
  images, unknown ``application/*`` without a charset, a request without a content type);
  plain text for ``text/*``, form data, XML, JavaScript and types sent with a ``charset``.
- Raw HTTP mode (``web: raw``, what corefn's generator deploys): ``__ow_query`` is the
  unparsed query string and ``__ow_body`` always carries the entity. Recognised by the
  presence of ``__ow_query``.
- Default mode: OpenWhisk merges the query parameters and a JSON-object or form body into the
  params themselves (body fields win), then drops ``__ow_query``; ``__ow_body`` is present only
  for other entities. The split between query and body is lost, so corefn rebuilds them by one
  documented rule: if the request carried a JSON or form entity (that content type, and a
  method other than GET/HEAD) the merged fields are the **body**, re-encoded in that content
  type (compact JSON, or ``a=1&b=2``), and ``query`` is empty; otherwise they are the **query**
  (strings as is, other JSON values as JSON text, lists as repeated values) and the body is
  ``__ow_body`` or ``""``. A JSON body that is not an object (an array, a number) arrives parsed
  in ``__ow_body`` and goes back to compact JSON text. Action default parameters are merged in
  too and cannot be told apart; corefn's own ``__corefn_*`` ones are removed. Deploy in raw mode
  for exact requests.

Responses: text bodies go out as strings; bodies whose content type OpenWhisk treats as binary
go out base64-encoded, which the controller decodes (``webactions.md``, "Handling HTTP
requests with actions"). ``Set-Cookie`` headers go out as a list.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar
from urllib.parse import urlencode

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, Headers, HttpRequest, Query
from corefn.events.base import check_base64, decode_path
from corefn.events.http import HttpResponse
from corefn.kit import Failure, PayloadShape
from corefn_openwhisk._common import PROVIDER, user_params

#: non-binary ``application/*`` media types of Akka HTTP (open charset): sent as plain text
TEXT_APPLICATION_TYPES = frozenset(
    {
        "application/x-www-form-urlencoded",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/atom+xml",
        "application/rss+xml",
        "application/soap+xml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/problem+json",
    }
)
#: methods whose merged params are read as the request's query in default mode
BODYLESS_METHODS = frozenset({"GET", "HEAD"})


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_binary(content_type: str | None, *, request: bool) -> bool:
    """Whether OpenWhisk carries a body of this content type base64-encoded. Requests: Akka's
    ``mediaType.binary`` or ``application/json``; responses: ``mediaType.binary`` only."""
    media = media_type(content_type)
    if not media:
        return request  # a request entity without a content type is application/octet-stream
    if media == "application/json":
        return request
    if media.startswith("text/") or media in TEXT_APPLICATION_TYPES:
        return False
    return "charset=" not in (content_type or "").lower()


def _query_values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for item in value for v in _query_values(item)]
    return [value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))]


def _fields_query(fields: dict[str, Any]) -> dict[str, list[str]]:
    return {k: _query_values(v) for k, v in fields.items()}


class WebAction(PayloadShape):
    """``__ow_method`` present: a web action request, raw or default mode."""

    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "web"
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT  # an HTTP 500

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and "__ow_method" in raw

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        method = r.str(raw, "__ow_method").upper()
        if not method.isalpha():
            raise r.error("__ow_method", f"is not an HTTP method: {method!r}")
        headers = r.opt_dict(raw, "__ow_headers")
        for name, value in headers.items():
            if not isinstance(value, (str, int, float, list)):
                raise r.error(f"__ow_headers.{name}", f"should be a string, got {type(value).__name__}")
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type" and isinstance(v, str)), None)
        path = r.get(raw, "__ow_path", str, default="") or "/"
        raw_mode = "__ow_query" in raw
        if not raw_mode and isinstance(raw.get("__ow_body"), (list, int, float, bool)):
            # default mode, a JSON entity that is not an object: OpenWhisk passes the parsed value
            text: str | None = json.dumps(raw["__ow_body"], separators=(",", ":"), ensure_ascii=False)
            return self._request(method, headers, path, Query(_fields_query(user_params(raw))), Body(text))
        text = r.opt_str(raw, "__ow_body")
        body = Body()
        if text is not None:
            if is_binary(content_type, request=True):
                r.convert(text, check_base64, "__ow_body", "base64 (OpenWhisk encodes this content type)")
                body = Body(text, base64=True)
            else:
                body = Body(text)
        if raw_mode:
            query = Query(r.get(raw, "__ow_query", str, default=""))
        else:
            query, body = self._default_mode(method, content_type, body, text is not None)
        return self._request(method, headers, path, query, body)

    def _request(self, method: str, headers: dict[str, Any], path: str, query: Query, body: Body) -> list[Event]:
        return [
            HttpRequest(
                method=method,
                path=decode_path(path if path.startswith("/") else "/" + path),
                headers=Headers(headers),
                query=query,
                body=body,
                raw=self.raw,
            )
        ]

    def _default_mode(self, method: str, content_type: str | None, body: Body, has_body: bool) -> tuple[Query, Body]:
        fields = user_params(self.raw)
        media = media_type(content_type)
        is_json = media == "application/json" or media.endswith("+json")
        if not has_body and method not in BODYLESS_METHODS and (is_json or media == "application/x-www-form-urlencoded"):
            if is_json:
                return Query(), Body(json.dumps(fields, separators=(",", ":"), ensure_ascii=False))
            pairs = [(k, v) for k, value in fields.items() for v in _query_values(value)]
            return Query(), Body(urlencode(pairs))
        return Query(_fields_query(fields)), body

    def to_response(self, result: DispatchResult) -> dict[str, Any]:
        response = result.response
        if response is None:  # dispatch always answers HTTP; keep the controller's contract anyway
            response = HttpResponse.json({"error": "no response"}, 500)
        return web_response(response)


def web_response(response: HttpResponse) -> dict[str, Any]:
    """An HttpResponse as the web action result the OpenWhisk controller turns into HTTP."""
    headers: dict[str, Any] = dict(response.headers)
    content_type = response.content_type
    data = response.body
    binary = is_binary(content_type, request=False) if content_type else False
    if not binary:
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError:
            binary = True
    if binary:
        if not content_type:
            headers["content-type"] = "application/octet-stream"
        body = base64.b64encode(data).decode("ascii")
    if response.cookies:
        headers["set-cookie"] = list(response.cookies)
    return {"statusCode": response.status, "headers": headers, "body": body}

