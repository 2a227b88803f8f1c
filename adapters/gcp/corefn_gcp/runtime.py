"""The glue the generated ``main.py`` calls: one functions-framework target per declared handler,
each handing its input here with the handler's name (the pin) and the app's reference.

Which target serves which handler (see :mod:`corefn_gcp.generator`)::

    handler kind             target signature   input                       answer
    http                     http               Flask request               the handler's response
    storage, nosql           cloud_event        CloudEvent (functions-      raise on failure → 500,
                                                framework converts 1st gen   Eventarc retries (--retry)
                                                background events itself)
    topic, queue, stream,    http               Flask request: CloudEvent   2xx acks; 500 (handler
    timer                                       (binary or structured),      failed) or 400 (payload
                                                Pub/Sub push body, legacy    unreadable) makes Pub/Sub
                                                event, Cloud Scheduler call  redeliver, then dead-letter
    invoke                                      Flask request, JSON body     the result as JSON

Pub/Sub-fed handlers take the raw HTTP request rather than a functions-framework CloudEvent
because a push subscription's body carries what the conversion drops (``deliveryAttempt``,
``orderingKey``, the subscription), and because the push contract is the HTTP status: any
non-2xx answer is a nack, and Pub/Sub redelivers until the subscription's dead-letter policy
moves the message away. A failed handler is logged by the dispatcher and never acknowledged.

Every target hands its input to :func:`corefn.adapters.handle`, the one delivery flow, pinned to
its handler. GCP's own step in that flow is the adapter's ``bind`` (:mod:`corefn_gcp._bind`): a
message from a topic the app declared with ``@app.queue`` or ``@app.stream`` is re-read as a
QueueMessage / StreamRecord, so handlers get the kind they declared.

1st gen background functions (``def f(data, context)``) can call :func:`serve_background`.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from corefn.adapters import Shape, handle
from corefn.context import Context
from corefn.errors import PayloadError, UnrecognizedPayloadError
from corefn.events import HttpResponse
from corefn_gcp.http import EXECUTION_ID, FlaskHttp, to_flask_response

if TYPE_CHECKING:
    import flask

    from corefn.app import App

#: header the generated keep-warm job sends to HTTP-signature targets
WARMUP_HEADER = "X-Corefn-Warmup"
CLOUDEVENT_JSON = "application/cloudevents+json"


# --------------------------------------------------------------------------- entry points


def serve_http(request: flask.Request, app_ref: str | None, handler: str) -> flask.Response:
    """An HTTP function. Requests for another handler's route answer 404: each deployed function
    serves its own route only (its permissions and settings are that handler's)."""
    if WARMUP_HEADER in request.headers:
        return _json({"warmup": True}, 200)
    app = _app(app_ref)
    spec, _, _ = app.router.match(request.method.upper(), request.path or "/")
    if spec is not None and spec.name != handler:
        return to_flask_response(HttpResponse.json({"error": "not found", "path": request.path}, 404))
    response: flask.Response = deliver(app, request, _context(app, request, request.headers.get(EXECUTION_ID)), handler, FlaskHttp)
    return response


def serve_cloud_event(event: Any, app_ref: str | None, handler: str) -> None:
    """A CloudEvent function (``cloudevents.http.CloudEvent`` from functions-framework). A failed
    handler raises: functions-framework answers 500 and Eventarc retries the event."""
    app = _app(app_ref)
    payload = cloud_event_dict(event)
    deliver(app, payload, _context(app, event, payload.get("id")), handler)


def serve_event_request(request: flask.Request, app_ref: str | None, handler: str) -> flask.Response:
    """A Pub/Sub-fed function (push subscription, Eventarc, Cloud Scheduler): 204 acknowledges,
    any other status makes the sender redeliver."""
    if WARMUP_HEADER in request.headers:
        return _json({"warmup": True}, 200)
    from corefn.log import get_logger

    app = _app(app_ref)
    try:
        payload = request_payload(request)
        answer = deliver(app, payload, _context(app, request, request.headers.get(EXECUTION_ID)), handler)
    except PayloadError as exc:  # will never succeed, but is not ours to drop: nack it to the dead-letter path
        get_logger("gcp").error("unreadable delivery for %s: %s", handler, exc)
        return _json({"error": str(exc)}, 400)
    except Exception as exc:  # the dispatcher logged the handler's failure with the event id
        return _json({"error": f"{type(exc).__name__}: {exc}", "handler": handler}, 500)
    if isinstance(answer, dict):  # a warm-up ping
        return _json(answer, 200)
    return _json(None, 204)


def serve_background(data: Any, context: Any, app_ref: str | None, handler: str) -> None:
    """A 1st gen background function ``(data, context)``; ``context`` is functions-framework's
    ``google.cloud.functions.context.Context``. Raises on failure (1st gen retries with --retry)."""
    payload = {
        "context": {
            "eventId": getattr(context, "event_id", None),
            "timestamp": getattr(context, "timestamp", None),
            "eventType": getattr(context, "event_type", None),
            "resource": getattr(context, "resource", None),
        },
        "data": data,
    }
    app = _app(app_ref)
    deliver(app, payload, _context(app, context, getattr(context, "event_id", None)), handler)


def serve_invoke(request: flask.Request, app_ref: str | None, handler: str) -> flask.Response:
    """Direct invocation (``gcloud functions call NAME --data JSON``): the JSON body is the
    payload, the handler's result the JSON answer. Cloud Functions has no invoke of its own: ``gcloud
    functions call`` posts to the HTTP trigger (https://cloud.google.com/sdk/gcloud/reference/functions/call)."""
    app = _app(app_ref)
    try:
        payload = json.loads(request.get_data() or b"null")
    except ValueError:
        return _json({"error": "the body must be JSON"}, 400)
    ctx = _context(app, request, request.headers.get(EXECUTION_ID))
    try:
        result = handle(_adapter(), app, payload, ctx, pinned=handler)
    except PayloadError as exc:
        return _json({"error": str(exc)}, 400)
    except Exception as exc:
        return _json({"error": f"{type(exc).__name__}: {exc}", "invocation_id": ctx.invocation_id}, 500)
    return _json(result, 200)


# -------------------------------------------------------------------------------- the flow


def deliver(app: App, raw: Any, ctx: Context, pinned: str | None, shape: type[Shape] | None = None) -> Any:
    """One delivery to the target serving ``pinned``: :func:`corefn.adapters.handle`, with the
    shape when the target knows it (detected otherwise)."""
    return handle(_adapter(), app, raw, ctx, pinned=pinned, shape=shape)


# ----------------------------------------------------------------------------- conversions


def cloud_event_dict(event: Any) -> dict[str, Any]:
    """A ``cloudevents`` SDK event as the dict the shapes read (attributes + ``data``)."""
    payload: dict[str, Any] = dict(event.get_attributes())
    payload["data"] = event.data
    return payload


def request_payload(request: flask.Request) -> Any:
    """What a Pub/Sub-fed target was sent: a CloudEvent (binary mode: ``ce-*`` headers;
    structured mode: ``application/cloudevents+json``) as a dict, a scheduler call as the
    request itself, anything else as its JSON body (push bodies, legacy events, pings)."""
    from corefn_gcp.timer import SchedulerHttp

    content_type = (request.headers.get("Content-Type") or "").lower()
    if "ce-specversion" in request.headers or content_type.startswith(CLOUDEVENT_JSON):
        import cloudevents.exceptions
        from cloudevents.http import from_http

        try:
            return cloud_event_dict(from_http(dict(request.headers.items()), request.get_data()))
        except cloudevents.exceptions.GenericException as exc:
            raise UnrecognizedPayloadError("gcp", f"unreadable CloudEvent: {exc}") from None
    if SchedulerHttp.matches(request):
        return request
    try:
        return json.loads(request.get_data())
    except ValueError:
        raise UnrecognizedPayloadError("gcp", "the request body is neither a CloudEvent nor JSON") from None


# --------------------------------------------------------------------------------- helpers


def _adapter() -> Any:
    from corefn_gcp import adapter

    return adapter


def _app(app_ref: str | None) -> App:
    from corefn.loader import load_app

    return load_app(app_ref or None)


def _context(app: App, raw: Any, invocation_id: str | None) -> Context:
    """``COREFN_TIMEOUT`` (seconds, written by the generator from the handler's ``timeout``) gives
    the deadline: Cloud Functions does not tell the function how long it may run."""
    timeout = os.environ.get("COREFN_TIMEOUT")
    deadline = time.time() + float(timeout) if timeout else None
    return Context(cloud="gcp", invocation_id=invocation_id, deadline=deadline, app=app, raw=raw)


def _json(value: Any, status: int) -> flask.Response:
    import flask

    if value is None:
        return flask.Response(b"", status=status)
    return flask.Response(json.dumps(value, default=str), status=status, mimetype="application/json")


__all__ = [
    "cloud_event_dict",
    "deliver",
    "request_payload",
    "serve_background",
    "serve_cloud_event",
    "serve_event_request",
    "serve_http",
    "serve_invoke",
]
