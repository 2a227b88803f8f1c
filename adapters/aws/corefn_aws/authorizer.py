"""API Gateway Lambda authorizers, read into an :class:`~corefn.events.authorize.AuthorizeRequest`
and answered in the form the gateway reads ("Input to an API Gateway Lambda authorizer",
"Output from an API Gateway Lambda authorizer", and "Working with AWS Lambda authorizers for HTTP
APIs", API Gateway developer guide):

====================  =============================================  ==============================
shape                 signature                                      answer
====================  =============================================  ==============================
apigw-authz-token     ``type == "TOKEN"`` + ``methodArn``            IAM policy
apigw-authz-request   ``type == "REQUEST"`` + ``methodArn`` (REST    IAM policy
                      API, and HTTP API payload 1.0)
apigw-authz-v2        ``version == "2.0"`` + ``routeArn`` (HTTP API  ``{"isAuthorized", "context"}``
                      payload 2.0)                                   (``response="simple"``) or policy
====================  =============================================  ==============================

Rules the answer follows:

- the policy allows or denies ``execute-api:Invoke`` on exactly the ARN asked about. The gateway
  caches a decision by identity source for the authorizer's TTL and applies the cached policy to
  other routes too, so an authorizer whose decision depends on the route needs a TTL of 0;
- a policy answer's ``context`` values must be strings, numbers or booleans ("You can't set a
  JSON object or array as a valid value of any key in the context map"): others are sent as JSON
  text; a simple response's ``context`` is passed as is;
- a handler that fails makes the invocation fail: the gateway answers 500, never lets through.
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Event, Headers, Query
from corefn.events.authorize import Allow, AuthorizeRequest, Deny, to_decision
from corefn.events.http import json_bytes
from corefn.kit import Failure, PayloadShape
from corefn_aws._common import PROVIDER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

POLICY_VERSION = "2012-10-17"


def _bearer(value: str | None) -> str | None:
    """The token without its ``Bearer`` scheme (RFC 6750 §2.1), as handlers want it."""
    if value is None:
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value


def _decision(result: DispatchResult) -> tuple[Allow | Deny, Any]:
    """The handler's decision and its spec's trigger (a failed handler fails the invocation)."""
    (outcome,) = result.outcomes
    if outcome.error is not None:
        raise outcome.error
    return to_decision(outcome.result), outcome.spec.trigger if outcome.spec is not None else None


class AuthorizerShape(PayloadShape):
    """What the three authorizer shapes share: a failed handler fails the invocation (raised, the
    kit's default answer), so the gateway answers 500 and never lets the request through."""

    provider: ClassVar[str] = PROVIDER
    kind: ClassVar[str] = "authorizer"
    failure: ClassVar[Failure] = Failure.RAISE


def policy(decision: Allow | Deny, arn: str) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow" if isinstance(decision, Allow) else "Deny", "Resource": arn}
    out: dict[str, Any] = {
        "principalId": decision.principal,
        "policyDocument": {"Version": POLICY_VERSION, "Statement": [statement]},
    }
    if isinstance(decision, Allow) and decision.context:
        out["context"] = {
            k: v if isinstance(v, (str, int, float, bool)) else json_bytes(v).decode()
            for k, v in decision.context.items()
        }
    return out


class TokenAuthorizer(AuthorizerShape):
    """A TOKEN authorizer: the identity source's value (usually ``Authorization``) and the ARN."""

    name: ClassVar[str] = "apigw-authz-token"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("type") == "TOKEN" and "methodArn" in raw

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        return [AuthorizeRequest(target=r.str(raw, "methodArn"), token=_bearer(r.opt_str(raw, "authorizationToken")), raw=raw)]

    def to_response(self, result: DispatchResult) -> Any:
        return policy(_decision(result)[0], self.raw["methodArn"])


class RequestAuthorizer(AuthorizerShape):
    """A REQUEST authorizer of a REST API (no ``version``) or an HTTP API with payload 1.0: the
    request's headers, query, path parameters and context, and the ``methodArn``."""

    name: ClassVar[str] = "apigw-authz-request"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("type") == "REQUEST" and "methodArn" in raw and raw.get("version") != "2.0"

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        multi = r.opt_dict(raw, "multiValueHeaders")
        headers = Headers(multi) if multi else Headers(r.opt_dict(raw, "headers"))
        multi_query = r.opt_dict(raw, "multiValueQueryStringParameters")
        query = Query(multi_query) if multi_query else Query(r.opt_dict(raw, "queryStringParameters"))
        context = r.opt_dict(raw, "requestContext")
        identity = r.opt_dict(context, "identity", at="requestContext") if context else {}
        return [
            AuthorizeRequest(
                target=r.str(raw, "methodArn"),
                token=_bearer(headers.get("authorization")),
                method=r.opt_str(raw, "httpMethod"),
                path=r.opt_str(raw, "path"),
                headers=headers,
                query=query,
                params={str(k): str(v) for k, v in r.opt_dict(raw, "pathParameters").items()},
                client_ip=identity.get("sourceIp") if isinstance(identity.get("sourceIp"), str) else None,
                id=context.get("requestId") if isinstance(context.get("requestId"), str) else None,
                raw=raw,
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        return policy(_decision(result)[0], self.raw["methodArn"])


class RequestAuthorizerV2(AuthorizerShape):
    """An HTTP API REQUEST authorizer, payload 2.0 (``routeArn``, ``rawPath``, ``requestContext.http``)."""

    name: ClassVar[str] = "apigw-authz-v2"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("version") == "2.0" and "routeArn" in raw

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        headers = Headers(r.opt_dict(raw, "headers"))
        http = r.opt_dict(raw, "requestContext.http")
        return [
            AuthorizeRequest(
                target=r.str(raw, "routeArn"),
                token=_bearer(headers.get("authorization")),
                method=http.get("method") if isinstance(http.get("method"), str) else None,
                path=r.opt_str(raw, "rawPath"),
                headers=headers,
                query=Query(r.get(raw, "rawQueryString", str, default="")),
                params={str(k): str(v) for k, v in r.opt_dict(raw, "pathParameters").items()},
                client_ip=http.get("sourceIp") if isinstance(http.get("sourceIp"), str) else None,
                id=r.opt_str(raw, "requestContext.requestId"),
                raw=raw,
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        decision, trigger = _decision(result)
        if getattr(trigger, "response", "simple") == "policy":
            return policy(decision, self.raw["routeArn"])
        out: dict[str, Any] = {"isAuthorized": isinstance(decision, Allow)}
        if isinstance(decision, Allow):
            out["context"] = {"sub": decision.principal, **decision.context}
        return out


SHAPES = (TokenAuthorizer, RequestAuthorizer, RequestAuthorizerV2)

__all__ = ["SHAPES", "AuthorizerShape", "RequestAuthorizer", "RequestAuthorizerV2", "TokenAuthorizer", "policy"]
