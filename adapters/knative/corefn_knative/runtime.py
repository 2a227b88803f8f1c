"""The server a Knative Service runs: one ASGI app per handler, served by uvicorn.

``python -m corefn_knative.runtime`` loads ``COREFN_APP`` (``module:attribute``) and serves the
handler ``COREFN_HANDLER`` on ``$PORT`` (Knative Serving sets it; 8080 by default). Each request is
one of:

- a **CloudEvent** in binary mode (``ce-specversion`` header) or structured mode
  (``content-type: application/cloudevents+json``), per the CloudEvents HTTP protocol binding
  (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md).
  It goes through the core's delivery path (:func:`corefn.adapters.handle`) and is answered 2xx
  only when its handler succeeded; a failed handler gets 500, so the Broker or source redelivers
  it with the subscription's ``delivery`` retries and finally sends it to the ``deadLetterSink``
  (https://knative.dev/docs/eventing/event-delivery/).
- a **MinIO-style bucket notification** (plain JSON) POSTed to :data:`WEBHOOK_PATH`.
- with ``COREFN_FLOWS=1``, the **flow engine**: any CloudEvent (its PingSource's tick, a start's
  ``dev.corefn.flow.wake``) advances the app's due flow runs (:mod:`corefn_knative.flows`).
- any other request is **HTTP**, routed to the app's HTTP handlers by
  :func:`corefn.dispatch.dispatch_http` (routing, 404 / 405, CORS, API key, error mapping: the
  same code every cloud runs). A Service deployed for one HTTP handler serves that handler's
  routes only.

A malformed CloudEvent is answered 400 and a well-formed one this handler does not take 422,
each with a one-line reason, and never reaches a handler. Never 404, 409 or 429: Knative's
dispatcher retries those (Knative Eventing delivery, "retryable status codes"), and retrying a
bad event only delays its dead letter.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

from corefn.context import Context
from corefn.errors import CorefnError, DispatchError, PayloadError
from corefn.events.base import Headers
from corefn.events.http import HttpResponse
from corefn.kit.asgi import (
    Receive,
    Scope,
    Send,
    TooLarge,
    http_request,
    lifespan,
    read_body,
    scope_headers,
    send_response,
)
from corefn_knative._bind import declared_type
from corefn_knative._envelope import from_binary, from_structured

if TYPE_CHECKING:
    from corefn.adapters import Shape
    from corefn.app import App
    from corefn.specs import HandlerSpec

#: where the generated MinIO / S3-compatible webhook target points (``mc event add ... arn:minio:sqs::ID:webhook``)
WEBHOOK_PATH = "/_corefn/s3"
#: the environment variable holding the token bucket notifications must carry (optional)
WEBHOOK_TOKEN_ENV = "COREFN_WEBHOOK_TOKEN"
#: the largest request body read (Knative sets none; a CloudEvent this big is a mistake)
DEFAULT_MAX_BODY = 32 * 1024 * 1024

#: event kind a shape reads → the declared handler kinds that take it (a Kafka record serves a
#: queue handler too; a topic message a queue handler, as SNS → SQS does)
TAKES: dict[str, frozenset[str]] = {
    "stream": frozenset({"stream", "queue"}),
    "topic": frozenset({"topic", "queue"}),
    "queue": frozenset({"queue", "topic"}),
}


class KnativeRuntime:
    """The ASGI application for one handler (or, with ``handler=None``, the whole app: events
    are then routed by their resource name, as ``corefn.dispatch`` does without a pin)."""

    def __init__(self, app: App, handler: str | None = None, *, max_body: int = DEFAULT_MAX_BODY, flows: bool = False) -> None:
        from corefn_knative import adapter

        self.app = app
        self.adapter = adapter
        self.pinned = handler or None
        self.spec: HandlerSpec | None = app.handler(handler) if handler else None
        self.max_body = max_body
        #: the flows Service (``COREFN_FLOWS=1``): every CloudEvent (the PingSource's tick, a
        #: start's wake-up) advances the due runs (:mod:`corefn_knative.flows`)
        self.flows = flows

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = scope_headers(scope)
        try:
            body = await read_body(scope, receive, self.max_body)
        except TooLarge:
            await send_response(send, _reason(413, f"request body larger than {self.max_body} bytes"))
            return
        response = await asyncio.get_running_loop().run_in_executor(None, self.respond, scope, headers, body)
        await send_response(send, response)

    def respond(self, scope: Scope, headers: Headers, body: bytes) -> HttpResponse:
        """The answer to one request (runs on a worker thread: handlers may block)."""
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if "ce-specversion" in headers or content_type.startswith("application/cloudevents"):
            if content_type == "application/cloudevents-batch+json":
                return _reason(400, "batched CloudEvents are not accepted: send one event per request")
            try:
                raw = from_structured(body) if content_type.startswith("application/cloudevents") else from_binary(headers, body)
            except ValueError as exc:
                return _reason(400, f"malformed CloudEvent: {exc}")
            if self.flows:
                return self.advance_flows()
            return self.deliver(raw, raw.get("id"))
        if self.flows:
            return _reason(400, "this is the flow engine's service: it takes CloudEvents (its tick, a start's wake-up) only")
        if scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            if not self.webhook_allowed(headers):
                return _reason(401, f"a bucket notification must carry the token in {WEBHOOK_TOKEN_ENV} (MinIO: auth_token)")
            try:
                raw = json.loads(body)
            except ValueError:
                return _reason(400, "the bucket notification is not JSON")
            from corefn_knative.storage import S3Webhook

            if not S3Webhook.matches(raw):
                return _reason(400, "not an S3-style bucket notification (EventName and Records)")
            return self.deliver(raw, None, S3Webhook)
        return self.http(scope, headers, body)

    def advance_flows(self) -> HttpResponse:
        """One round of the flow engine; 204, or 500 when the state table failed (the tick's
        sender retries; the runs stay due)."""
        from corefn_knative.flows import TableFlowStore, advance_due

        try:
            advance_due(self.app, TableFlowStore.of(self.app))
        except CorefnError as exc:
            return _reason(500, f"flow engine: {type(exc).__name__}: {exc}")
        return HttpResponse(204)

    def webhook_allowed(self, headers: Headers) -> bool:
        """With ``COREFN_WEBHOOK_TOKEN`` set, a notification must send it in ``Authorization``
        (MinIO sends its webhook target's ``auth_token`` there, with or without ``Bearer``);
        compared in constant time. Unset, the route is open to what can reach the Service (the
        generator makes storage Services cluster-local)."""
        import hmac

        expected = os.environ.get(WEBHOOK_TOKEN_ENV, "")
        if not expected:
            return True
        given = headers.get("authorization", "")
        given = given[7:] if given.lower().startswith("bearer ") else given
        return hmac.compare_digest(expected.encode(), given.strip().encode())

    def deliver(self, raw: Any, event_id: Any, shape: type[Shape] | None = None) -> HttpResponse:
        """One event through the core's delivery path, answered as a Knative sender expects."""
        from corefn.adapters import find_shape, handle

        spec = self.spec
        if shape is None:
            if spec is not None and spec.kind == "topic" and raw.get("type") == declared_type(spec):
                from corefn_knative.queue import BrokerEvent

                shape = BrokerEvent
            else:
                shape = find_shape(self.adapter, raw)
        if shape is None:
            return _reason(422, f"CloudEvent type {raw.get('type')!r} is not one this service takes")
        if spec is not None and shape.kind != "warmup" and spec.kind not in TAKES.get(shape.kind, frozenset({shape.kind})):
            return _reason(422, f"a {shape.kind} event ({shape.name}) cannot go to handler {spec.name!r}, which takes {spec.kind} events")
        ctx = Context(cloud="knative", app=self.app, invocation_id=str(event_id) if event_id else uuid.uuid4().hex)
        try:
            answer = handle(self.adapter, self.app, raw, ctx, pinned=self.pinned, shape=shape)
        except PayloadError as exc:
            return _reason(400, str(exc))
        except DispatchError as exc:
            return _reason(422, str(exc))
        if isinstance(answer, HttpResponse):
            return answer
        return HttpResponse.json(answer) if answer is not None else HttpResponse(204)

    def http(self, scope: Scope, headers: Headers, body: bytes) -> HttpResponse:
        from corefn.dispatch import dispatch_http

        spec = self.spec
        if spec is not None and spec.kind != "http":
            return _reason(400, f"this service runs handler {spec.name!r} ({spec.kind}): send it CloudEvents")
        request = http_request(scope, headers, body, headers.get("x-request-id") or uuid.uuid4().hex, forwarded=True)
        if spec is not None:
            matched = self.app.router.match(request.method, request.path)[0]
            if matched is not None and matched.name != spec.name:  # another handler's route: another Service
                return HttpResponse.json({"error": "not found", "path": request.path}, 404)
        ctx = Context(cloud="knative", app=self.app, invocation_id=request.id)
        return dispatch_http(self.app, request, ctx)

def _reason(status: int, text: str) -> HttpResponse:
    """A one-line JSON reason (the sender's logs and the dead letter's extensions show it)."""
    return HttpResponse.json({"error": " ".join(text.split())}, status)


def from_environment() -> KnativeRuntime:
    """The runtime for ``COREFN_APP`` and ``COREFN_HANDLER``; a missing setting is an error."""
    from corefn.errors import ConfigurationError
    from corefn.loader import load_app

    ref = os.environ.get("COREFN_APP")
    if not ref:
        raise ConfigurationError("COREFN_APP is not set (module:attribute of the app this image serves)")
    max_body = os.environ.get("COREFN_MAX_BODY")
    flows = os.environ.get("COREFN_FLOWS") == "1"
    return KnativeRuntime(
        load_app(ref), None if flows else os.environ.get("COREFN_HANDLER") or None,
        max_body=int(max_body) if max_body else DEFAULT_MAX_BODY, flows=flows,
    )


def main() -> None:
    try:
        import uvicorn
    except ImportError:
        from corefn.errors import MissingExtraError

        raise MissingExtraError("uvicorn", "knative") from None
    try:
        runtime = from_environment()
    except CorefnError as exc:
        raise SystemExit(f"corefn_knative.runtime: {exc}") from None
    # Knative Serving gives the port in $PORT (runtime contract); all interfaces, as the
    # queue-proxy sidecar reaches the container over the pod network
    uvicorn.run(runtime, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")), log_level="info")  # noqa: S104


if __name__ == "__main__":
    main()
