"""HTTP requests from API Gateway (REST v1, HTTP API v2), Lambda Function URLs and ALB, and the
response each caller expects back (VPC Lattice, which answers like ALB, is ``lattice.py``).

What API Gateway sends a Lambda that is *not* an HTTP request, though it looks like one, is left
unclaimed (a direct invoke under ``--cloud aws``), because the gateway expects another answer:

- Lambda authorizers: ``type`` ``TOKEN`` / ``REQUEST`` with the ARN being authorized,
  ``methodArn`` (REST, and HTTP API payload 1.0) or ``routeArn`` (HTTP API payload 2.0); the
  gateway wants an IAM policy or ``{"isAuthorized": ...}`` back, never a proxy response
  (API Gateway developer guide, "Input to an API Gateway Lambda authorizer" and "Working with
  AWS Lambda authorizers for HTTP APIs");
- WebSocket API routes (``requestContext.connectionId`` / ``eventType``: CONNECT, MESSAGE,
  DISCONNECT): a connection's lifecycle and the messages sent on it, not requests to an HTTP
  route (a ``$connect`` event may carry ``httpMethod``, which made REST's shape claim it).

Where the client's path is:

- REST (v1): ``requestContext.path`` is what the client asked for; on the
  ``*.execute-api.*`` domain it starts with ``/{stage}``, which the contract drops. ``path`` is
  the fallback (console test invocations carry no ``requestContext.path``).
- HTTP API (v2) and Function URL: ``rawPath``; a named (non-``$default``) stage on the
  execute-api domain prefixes it with ``/{stage}`` too. The query comes from ``rawQueryString``:
  v2's ``queryStringParameters`` joins repeated names with commas, which loses information.
- ALB: ``path`` and the query values arrive *still percent-encoded* (ALB documents that it
  does not decode them), so the adapter decodes them.

Responses: v1 and multi-value ALB answer with ``multiValueHeaders`` (so ``Set-Cookie`` can
repeat); v2 / Function URL with ``headers`` + ``cookies``; ALB adds ``statusDescription``
("200 OK"), which ALB requires. Bodies that are not text (``HttpResponse.is_text()``) go back
base64-encoded with ``isBase64Encoded: true``.
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, Headers, HttpRequest, HttpResponse, Query
from corefn.events.base import check_base64, decode_path
from corefn.kit import Failure, PayloadShape, gateway_request
from corefn.payload import Reader
from corefn_aws._common import PROVIDER
from corefn_aws._gateway_auth import rest_identity, vouched_identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn.auth import Auth


def _multi_headers(response: HttpResponse) -> dict[str, list[str]]:
    headers = {name: [value] for name, value in response.headers.items()}
    if response.cookies:
        headers["set-cookie"] = list(response.cookies)
    return headers


def _strip_stage(path: str, stage: Any, domain: Any) -> str:
    """Drop ``/{stage}`` where API Gateway put it: only on the default execute-api domain (a
    custom domain's base path is part of what the client asked for)."""
    if not isinstance(stage, str) or stage in ("$default", "") or not path.startswith("/" + stage):
        return path
    if isinstance(domain, str) and ".execute-api." not in domain:
        return path
    rest = path[len(stage) + 1 :]
    if rest == "":
        return "/"
    return rest if rest.startswith("/") else path


def check_base64_body(r: Reader, body: str) -> None:
    """A body flagged ``isBase64Encoded`` must be base64: checked at parse time, decoded when
    read. One wording for every HTTP shape (REST v1 and ALB once said it another way)."""
    try:
        check_base64(body)
    except ValueError as exc:
        raise r.error("body", f"is flagged isBase64Encoded but {exc}") from None


def result_response(result: DispatchResult) -> HttpResponse:
    response = result.response
    if response is None:  # an HTTP dispatch always answers; keep Lambda's caller informed if not
        return HttpResponse.json({"error": "internal server error"}, 500)
    return response


#: ``type`` of an API Gateway Lambda authorizer request
AUTHORIZER_TYPES = frozenset({"TOKEN", "REQUEST"})
#: the ``requestContext`` key every VPC Lattice 2.0 event carries (a Lambda target is always
#: registered in a target group) and HTTP API's never does
LATTICE_CONTEXT = "targetGroupArn"


def is_authorizer(raw: dict[str, Any]) -> bool:
    """Any of an authorizer request's marks (the ARN it authorizes, ``methodArn`` or
    ``routeArn``, or its ``type``): a proxy event carries none of them at its top level."""
    return "methodArn" in raw or "routeArn" in raw or raw.get("type") in AUTHORIZER_TYPES


def is_websocket(context: dict[str, Any]) -> bool:
    """The ``requestContext`` keys only WebSocket API events carry."""
    return "connectionId" in context or "eventType" in context


def _vouched_v2(raw: dict[str, Any]) -> Auth | None:
    """``req.auth`` of an HTTP API 2.0 payload, worked out when a handler first reads it: the
    authorizer's claims need no checking (API Gateway wrote them after verifying the token) and
    reading them never fails, so deferring them leaves no malformed field for after the handler
    starts; most handlers never read ``req.auth`` (~1.9 µs a request saved)."""
    return vouched_identity(raw["requestContext"])


def described_response(response: HttpResponse, multi_value: bool) -> dict[str, Any]:
    """The answer ALB and VPC Lattice read: ``statusDescription`` ("200 OK") beside the status,
    and either ``multiValueHeaders`` or single-value ``headers``."""
    body, is_base64 = response.encoded_body()
    from http import HTTPStatus  # only these targets want a reason phrase: keep it off the cold start

    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    out: dict[str, Any] = {
        "statusCode": response.status,
        "statusDescription": f"{response.status} {reason}",
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if multi_value:
        out["multiValueHeaders"] = _multi_headers(response)
    else:
        headers = dict(response.headers)
        # Single-value mode has one value per name: extra cookies ride on case variants of
        # "set-cookie" (header names are case-insensitive, ALB passes each through).
        for i, cookie in enumerate(response.cookies):
            headers[_case_variant("set-cookie", i)] = cookie
        out["headers"] = headers
    return out


class HttpShape(PayloadShape):
    """What the Lambda HTTP shapes share (VPC Lattice's too): a failed handler is the 500 the
    dispatcher writes into the answer (:class:`~corefn.kit.Failure` ``RESULT``). These run on
    every HTTP invocation; the kit builds each class's Reader once, when the class is defined."""

    provider: ClassVar[str] = PROVIDER
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT


# ------------------------------------------------------------------------------ HTTP API v2


class HttpApiV2(HttpShape):
    """API Gateway HTTP API, payload format 2.0 (``version == "2.0"`` + ``requestContext``)."""

    name: ClassVar[str] = "apigw-v2"
    #: whether the request came through a ``*.lambda-url.*`` domain: all that tells a Function
    #: URL from an HTTP API, which send the same 2.0 format
    lambda_url: ClassVar[bool] = False

    @classmethod
    def matches(cls, raw: Any) -> bool:
        # is_authorizer(raw), inlined: this test runs on every invocation of every Lambda
        if not isinstance(raw, dict) or raw.get("version") != "2.0" or "routeArn" in raw or "methodArn" in raw:
            return False
        if raw.get("type") in AUTHORIZER_TYPES:
            return False
        context = raw.get("requestContext")
        if not isinstance(context, dict) or ("http" not in context and LATTICE_CONTEXT in context):
            return False
        domain = context.get("domainName")
        return (isinstance(domain, str) and ".lambda-url." in domain) is cls.lambda_url

    def to_events(self) -> list[Event]:
        # The hot path of every HTTP invocation: plain dict reads, lazy Headers/Query/Body over
        # the payload's own values, and the careful Reader only when something is off.
        raw = self.raw
        try:
            context = raw["requestContext"]
            http = context["http"]
            method = http["method"]
            path = raw["rawPath"]
            query = raw.get("rawQueryString") or ""
            headers = raw.get("headers") or {}
            body = raw.get("body")
            is_base64 = raw.get("isBase64Encoded") is True
            cookies = raw.get("cookies") or ()
            ok = (
                type(method) is str and type(path) is str and type(query) is str and type(headers) is dict
                and (body is None or type(body) is str) and type(cookies) in (list, tuple)
            )  # fmt: skip
        except (KeyError, TypeError):
            ok = False
        if not ok:
            return self._checked()
        if "%" in path:
            path = decode_path(path)
        stage = context.get("stage")
        if stage != "$default" and stage is not None:
            path = _strip_stage(path, stage, context.get("domainName"))
        if is_base64 and body:
            check_base64_body(self.reader, body)
        return [
            gateway_request(
                method, path, Headers(headers), Query(query), Body(body, base64=is_base64), tuple(cookies),
                http.get("sourceIp"), context.get("requestId"), raw,
                None, _vouched_v2 if "authorizer" in context else None,  # read when req.auth is
            )
        ]

    def _checked(self) -> list[Event]:
        """Re-read with the Reader to name the field that is missing or mistyped."""
        r, raw = self.reader, self.raw
        r.str(raw, "requestContext.http.method")
        r.str(raw, "rawPath")
        r.get(raw, "rawQueryString", str, default="")
        r.opt_dict(raw, "headers")
        r.opt_str(raw, "body")
        r.get(raw, "cookies", list, default=[])
        raise r.error("?", "is malformed")

    def to_response(self, result: DispatchResult) -> Any:
        response = result.response or result_response(result)
        body, is_base64 = response.encoded_body()
        out: dict[str, Any] = {
            "statusCode": response.status,
            "headers": dict(response.headers),
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if response.cookies:
            out["cookies"] = list(response.cookies)
        return out


class FunctionUrl(HttpApiV2):
    """Lambda Function URL: the HTTP API 2.0 format, told apart by its ``*.lambda-url.*``
    domain. Same reading, same response format."""

    name: ClassVar[str] = "function-url"
    lambda_url: ClassVar[bool] = True


# --------------------------------------------------------------------------------- REST v1


class RestApiV1(HttpShape):
    """API Gateway REST API proxy integration (payload format 1.0)."""

    name: ClassVar[str] = "apigw-v1"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not isinstance(raw, dict) or "httpMethod" not in raw or raw.get("version") == "2.0" or is_authorizer(raw):
            return False
        context = raw.get("requestContext")
        return isinstance(context, dict) and "elb" not in context and not is_websocket(context)

    def _path(self) -> str:
        r, raw = self.reader, self.raw
        context = r.dict(raw, "requestContext")
        client_path = r.opt_str(context, "path", at="requestContext")
        if client_path is None:
            return decode_path(r.str(raw, "path"))
        path = _strip_stage(client_path, context.get("stage"), context.get("domainName"))
        return decode_path(path)

    def _headers(self) -> Headers:
        r, raw = self.reader, self.raw
        multi = r.opt_dict(raw, "multiValueHeaders")
        return Headers(multi) if multi else Headers(r.opt_dict(raw, "headers"))

    def _query(self) -> Query:
        r, raw = self.reader, self.raw
        multi = r.opt_dict(raw, "multiValueQueryStringParameters")
        return Query(multi) if multi else Query(r.opt_dict(raw, "queryStringParameters"))

    def _body(self) -> Body:
        r, raw = self.reader, self.raw
        body = r.opt_str(raw, "body")
        is_base64 = r.get(raw, "isBase64Encoded", bool, default=False)
        if is_base64 and body:
            check_base64_body(r, body)
        return Body(body, base64=is_base64)

    def _caller(self) -> dict[str, Any]:
        """What the gateway says about the call: the client's address and its request id."""
        r = self.reader
        context = r.dict(self.raw, "requestContext")
        return {
            "client_ip": r.get(context, "identity.sourceIp", str, default=None, at="requestContext"),
            "id": r.opt_str(context, "requestId", at="requestContext"),
        }

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        caller = self._caller()  # read first: its fields are reported before the request's
        return [
            HttpRequest(
                method=r.str(raw, "httpMethod").upper(),
                path=self._path(),
                headers=self._headers(),
                query=self._query(),
                body=self._body(),
                **caller,
                raw=raw,
                auth=rest_identity(raw.get("requestContext")),
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        response = result_response(result)
        body, is_base64 = response.encoded_body()
        return {
            "statusCode": response.status,
            "multiValueHeaders": _multi_headers(response),
            "body": body,
            "isBase64Encoded": is_base64,
        }


# -------------------------------------------------------------------------------------- ALB


class Alb(RestApiV1):
    """Application Load Balancer target (``requestContext.elb``). ALB answers in the form the
    request used: ``multiValueHeaders`` only when the target group has multi-value headers on."""

    name: ClassVar[str] = "alb"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        context = raw.get("requestContext") if isinstance(raw, dict) else None
        return isinstance(context, dict) and "elb" in context

    def _path(self) -> str:
        return decode_path(self.reader.str(self.raw, "path"))

    def _query(self) -> Query:
        # ALB passes names and values percent-encoded as the client sent them: rebuild the raw
        # query string and let Query decode it (every repeat kept, in order).
        r, raw = self.reader, self.raw
        source = r.opt_dict(raw, "multiValueQueryStringParameters") or r.opt_dict(raw, "queryStringParameters")
        parts = []
        for name, values in source.items():
            for value in values if isinstance(values, list) else [values]:
                if not isinstance(value, str):
                    raise r.error(f"queryStringParameters.{name}", "should be a string")
                parts.append(f"{name}={value}")
        return Query("&".join(parts))

    def _caller(self) -> dict[str, Any]:
        """ALB's ``requestContext`` holds only the target group (``elb``): no address, no id."""
        self.reader.dict(self.raw, "requestContext.elb")
        return {}

    def to_response(self, result: DispatchResult) -> Any:
        return described_response(result_response(result), isinstance(self.raw.get("multiValueHeaders"), dict))


def _case_variant(name: str, n: int) -> str:
    """The ``n``-th distinct upper/lower-case spelling of ``name`` (n = 0 is ``name``)."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    chars = list(name)
    for bit, index in enumerate(letters):
        if n >> bit & 1:
            chars[index] = chars[index].upper()
    return "".join(chars)


__all__ = ["Alb", "FunctionUrl", "HttpApiV2", "RestApiV1", "described_response", "is_authorizer", "is_websocket"]
