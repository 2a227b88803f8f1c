"""The OpenWhisk entry point: ``main(params) -> dict``, what the ``python:3.11`` runtime calls.

Generated ``__main__.py`` files call :func:`make_main` with the app reference and the handler the
action serves; a hand-written action may import :func:`main` and configure it with the
``COREFN_APP`` / ``COREFN_HANDLER`` environment variables or the bound default parameters
``__corefn_app`` / ``__corefn_handler`` (in that order of precedence, after the generated
values).

Configuration: OpenWhisk gives actions no environment variables of their own, only bound
parameters. So every bound parameter ``__corefn_env_<NAME>`` is exported as environment
variable ``<NAME>`` (unless the environment already has it) before the app loads: sink backend
URLs (``COREFN_SINK_<SINK>``), the API key (``COREFN_API_KEY``), a handler's ``env`` option.

Trust: ``__corefn_*`` parameters are read only where they can only be bound parameters: on
triggers and invokes (authenticated), and on raw-HTTP web requests, whose query and body stay
inside ``__ow_query`` / ``__ow_body``. A default-mode web request merges its query and body
into the params, so there they are ignored: a request never chooses the app or its settings.

The :class:`~corefn.context.Context` carries ``__OW_ACTIVATION_ID`` as the invocation id and
``__OW_DEADLINE`` (epoch milliseconds) as the deadline, both set by the runtime per activation.

A storage action is a raw web action too (Apache OpenWhisk has no storage feed): a web request
to it is a bucket notification (:class:`corefn_openwhisk.storage.S3Webhook`), checked against
``COREFN_WEBHOOK_TOKEN`` first.

A flow's conductor calls a step action with ``{"__corefn_input": data}`` (bound-only trust, as
above): :func:`flow_step` runs the pinned invoke handler on exactly ``data`` and answers
``{"__corefn_output": result}`` or the error with its class's bases (:mod:`.conductor`).

Outcomes: a web request always gets an HTTP response (a handler failure is a 500); a
trigger-fired or invoked handler that fails returns ``{"error": ...}``, an OpenWhisk application
error, so the activation is recorded failed with the reason; a payload that cannot be read
does the same. Nothing is swallowed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from corefn_openwhisk._common import error_result

Main = Callable[[dict[str, Any]], dict[str, Any]]


def make_main(app_ref: str | None = None, handler: str | None = None) -> Main:
    """A ``main(params)`` bound to ``app_ref`` (``module:attribute``) and the pinned ``handler``."""

    def main(params: dict[str, Any]) -> dict[str, Any]:
        return run(params, app_ref=app_ref, handler=handler)

    return main


def main(params: dict[str, Any]) -> dict[str, Any]:
    """The entry point configured by environment or bound parameters only."""
    return run(params)


ENV_PREFIX = "__corefn_env_"


def trusted(params: dict[str, Any]) -> bool:
    """Whether ``__corefn_*`` params can only have been bound at deploy time (see module doc)."""
    return "__ow_method" not in params or "__ow_query" in params


def _setting(params: dict[str, Any], given: str | None, env: str, param: str) -> str | None:
    if given:
        return given
    if os.environ.get(env):
        return os.environ[env]
    value = params.get(param) if trusted(params) else None
    return value if isinstance(value, str) and value else None


def export_env(params: dict[str, Any]) -> None:
    """Bound ``__corefn_env_<NAME>`` parameters as environment variables (the real environment
    wins; an uninterpolated ``$VARIABLE`` left by wskdeploy is skipped)."""
    if not trusted(params):
        return
    for key, value in params.items():
        if isinstance(key, str) and key.startswith(ENV_PREFIX) and isinstance(value, str) and value:
            name = key[len(ENV_PREFIX) :]
            if name and not value.startswith("$") and not os.environ.get(name):
                os.environ[name] = value


def context(app: Any, handler: str | None) -> Any:
    from corefn.context import Context

    deadline_ms = os.environ.get("__OW_DEADLINE", "")
    return Context(
        cloud="openwhisk",
        invocation_id=os.environ.get("__OW_ACTIVATION_ID") or uuid.uuid4().hex,
        function=handler,
        deadline=int(deadline_ms) / 1000 if deadline_ms.isdigit() else None,
        app=app,
    )


def _load(app_ref: str | None, handler: str | None) -> Any:
    """The app, loaded with the pinned handler visible to corefn's cold-start check (which reads
    ``COREFN_HANDLER`` to ask only for the sinks that handler uses); the environment is restored."""
    from corefn.loader import load_app

    if not handler or os.environ.get("COREFN_HANDLER"):
        return load_app(app_ref)
    os.environ["COREFN_HANDLER"] = handler
    try:
        return load_app(app_ref)
    finally:
        del os.environ["COREFN_HANDLER"]


def flow_step(params: dict[str, Any], app_ref: str | None, handler: str) -> dict[str, Any]:
    """A step of a flow's conductor (:mod:`corefn_openwhisk.conductor`): the input is exactly
    ``__corefn_input``, the answer ``{"__corefn_output": result}`` or an error naming the
    exception's class and its bases (what retry and catch rules match)."""
    from corefn.dispatch import dispatch
    from corefn.errors import CorefnError
    from corefn.events import InvokeEvent

    try:
        app = _load(_setting(params, app_ref, "COREFN_APP", "__corefn_app"), handler)
        ctx = context(app, handler)
        event = InvokeEvent(payload=params["__corefn_input"], name=handler, id=ctx.invocation_id)
        outcome = dispatch(app, [event], ctx, pinned=handler).outcomes[0]
    except CorefnError as error:
        return error_result(error)
    if outcome.error is not None:
        names = [c.__name__ for c in type(outcome.error).__mro__ if c not in (object, BaseException)]
        return {"error": {"type": type(outcome.error).__name__, "message": str(outcome.error), "names": names}}
    return {"__corefn_output": outcome.result}


def run(params: Any, *, app_ref: str | None = None, handler: str | None = None) -> dict[str, Any]:
    """One activation: load the app, detect the payload's shape, dispatch, answer."""
    from corefn.adapters import find_shape, handle
    from corefn.errors import CorefnError, UnrecognizedPayloadError
    from corefn.log import configure, get_logger
    from corefn_openwhisk import adapter
    from corefn_openwhisk.invoke import invoke_result

    configure("openwhisk")
    log = get_logger("openwhisk")
    if not isinstance(params, dict):
        return error_result(UnrecognizedPayloadError("openwhisk", "action params must be a JSON object"))
    export_env(params)
    handler = _setting(params, handler, "COREFN_HANDLER", "__corefn_handler")
    if trusted(params) and "__corefn_input" in params and handler:
        return flow_step(params, app_ref, handler)
    payload = {k: v for k, v in params.items() if not (isinstance(k, str) and k.startswith("__corefn_"))}
    ctx = None
    try:
        app = _load(_setting(params, app_ref, "COREFN_APP", "__corefn_app"), handler)
        ctx = context(app, handler)
        found = find_shape(adapter, payload)
        spec = app.handler(handler) if handler else None
        if spec is not None and handler and spec.kind == "storage" and "__ow_method" in payload:
            from corefn_openwhisk.storage import webhook

            return webhook(adapter, app, payload, ctx, handler)
        if spec is not None and handler and spec.kind in ("stream", "nosql") and found is not None and found.name in ("kafka", "cloudant"):
            from corefn.adapters import deliver
            from corefn_openwhisk.stream import settle_stream

            _, delivered = deliver(adapter, app, payload, ctx, pinned=handler, shape=found)
            return settle_stream(app, ctx, handler, delivered) if delivered is not None else {"ok": True, "warmup": True}
        result = handle(adapter, app, payload, ctx, pinned=handler, shape=found)
    except CorefnError as error:  # unreadable payload, no handler, bad configuration
        log.error("activation failed: %s", error, extra={"invocation_id": ctx.invocation_id if ctx else None})
        return error_result(error)
    except Exception as error:  # an invoke handler's own failure (dispatch logged its traceback)
        return error_result(error)
    if found is None:
        return invoke_result(result)
    return result if isinstance(result, dict) else invoke_result(result)
