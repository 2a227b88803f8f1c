"""A gateway asking "may this request through?" (an API Gateway Lambda authorizer), and the answer.

The request carries what the gateway forwards: ``token`` (a TOKEN authorizer's whole header
value, or the ``Authorization`` header of a REQUEST authorizer, without a ``Bearer`` prefix),
the HTTP ``method``, ``path``, ``headers``, ``query`` and route ``params`` when the gateway sends
them, and ``target``: what the gateway will authorize (the method or route ARN on AWS).

The handler answers :class:`Allow` (with the caller's ``principal`` and a ``context`` the protected
route then reads as ``req.auth.claims``), :class:`Deny`, or a bool. The adapter turns that into
the gateway's own form (an IAM policy or a simple response).
"""

from __future__ import annotations

from collections.abc import Mapping

from corefn._record import Record, _set
from corefn.events.base import Event, Headers, Query

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

_NONE: Mapping[str, Any] = {}


class AuthorizeRequest(Event):
    __slots__ = ("token", "method", "path", "headers", "query", "params", "client_ip", "target")
    kind: ClassVar[str] = "authorizer"
    token: str | None
    method: str | None
    path: str | None
    headers: Headers
    query: Query
    params: Mapping[str, str]
    client_ip: str | None
    target: str

    def __init__(
        self,
        *,
        target: str,
        token: str | None = None,
        method: str | None = None,
        path: str | None = None,
        headers: Headers | Mapping[str, Any] | None = None,
        query: Query | str | Mapping[str, Any] | None = None,
        params: Mapping[str, str] = _NONE,
        client_ip: str | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "token", token)
        _set(self, "method", method)
        _set(self, "path", path)
        _set(self, "headers", headers if isinstance(headers, Headers) else Headers(headers))
        _set(self, "query", query if isinstance(query, Query) else Query(query))
        _set(self, "params", params)
        _set(self, "client_ip", client_ip)
        _set(self, "target", target)
        _set(self, "id", id)
        _set(self, "raw", raw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "authorizer", "target": self.target}
        for name in ("token", "method", "path", "client_ip", "id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.headers:
            out["headers"] = self.headers.to_dict()
        if self.query:
            out["query"] = self.query.to_dict()
        if self.params:
            out["params"] = dict(self.params)
        return out


class Allow(Record):
    """Let the request through. ``principal`` identifies the caller (API Gateway's
    ``principalId``; the protected route's ``req.auth.subject``); ``context`` reaches the route."""

    __slots__ = ("principal", "context")
    principal: str
    context: Mapping[str, Any]

    def __init__(self, principal: str, context: Mapping[str, Any] = _NONE) -> None:
        _set(self, "principal", principal)
        _set(self, "context", context)


class Deny(Record):
    """Refuse the request (the gateway answers 403)."""

    __slots__ = ("principal",)
    principal: str

    def __init__(self, principal: str = "anonymous") -> None:
        _set(self, "principal", principal)


def to_decision(result: Any) -> Allow | Deny:
    """What an authorizer handler returned, as a decision: ``True`` allows an anonymous caller,
    anything that is not an :class:`Allow` or ``True`` denies (fail closed)."""
    if isinstance(result, (Allow, Deny)):
        return result
    if result is True:
        return Allow("anonymous")
    return Deny()


__all__ = ["Allow", "AuthorizeRequest", "Deny", "to_decision"]
