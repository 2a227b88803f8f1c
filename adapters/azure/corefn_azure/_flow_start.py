"""``ctx.start_flow`` on Azure: through the Durable Functions client of the function that runs.

Azure hands a durable client only to a function declared with a client binding, and its
``start_new`` is a coroutine: so the generated function of a trigger applied to a flow is
``async`` and calls :func:`start_flows`, which runs the handler (:func:`corefn_azure.runtime.run`)
while :func:`start_flow` (the adapter's) only records each start, then starts them with the
client once the handler has succeeded. A failed start raises, so the host retries the message
(and poisons it in the end), as for any failed delivery.

Idempotency: a run started with a ``key`` (a trigger's event id) gets an instance id made from
it; a redelivered event finds that instance (``get_status`` answers with its runtime status) and
does not start it again, Durable's singleton pattern
(https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-singletons). The
extension reports an instance still *pending* as not found (HTTP 404), so a redelivery within
that moment may start the same instance id twice: Durable then keeps one orchestration. Instance
ids here are at most 100 characters, without ``/ \\ # ?`` (Azure Storage table keys' rule).

Which function apps import Durable at all is :func:`is_durable_app`'s: the generated
``function_app.py`` defines the flow functions (and imports ``azure.durable_functions``) only
where the ``COREFN_DURABLE`` setting says so (see :mod:`corefn_azure._flow_functions`).
"""

from __future__ import annotations

import json
import os
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.context import Context

#: the starts a handler asked for in this invocation: (orchestrator, instance id, input)
_pending: ContextVar[list[tuple[str, str, Any]] | None] = ContextVar("corefn_azure_flow_starts", default=None)


#: the app setting that says whether this function app runs Durable functions ("1") or not ("0")
DURABLE_SETTING = "COREFN_DURABLE"


def is_durable_app() -> bool:
    """Whether this function app defines the flow functions: ``COREFN_DURABLE`` is ``1`` in the
    apps that run the orchestrators and activities or start flows, ``0`` in the others, which then
    never import ``azure.durable_functions`` (a few hundred milliseconds of cold start). A missing
    or other value is refused: guessing ``0`` would leave the flows silently unindexed, guessing
    ``1`` would hide a deployment that lost its settings."""
    value = os.environ.get(DURABLE_SETTING)
    if value in ("0", "1"):
        return value == "1"
    found = "is not set" if value is None else f"is {value!r}"
    raise ConfigurationError(
        f"app setting {DURABLE_SETTING} {found}: set it to 1 in the function apps that run the flows or start them "
        "(Durable Functions), 0 in the others (corefn deploy's azuredeploy.json and local.settings.json.example set it)"
    )


def instance_id(key: str) -> str:
    import hashlib  # here, not at import: every function app of an app with flows imports this module

    clean = re.sub(r"[^A-Za-z0-9_.:=@+-]", "-", key)[:60]
    return f"{clean}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def start_flow(ctx: Context, flow: str, payload: str, key: str | None) -> str:
    """Record a start of ``flow`` (made by :func:`start_flows` after the handler); the instance id."""
    import uuid

    from corefn_azure.durable import orchestrator_name

    pending = _pending.get()
    if pending is None:
        raise ConfigurationError(
            f"ctx.start_flow({flow!r}) on azure: this function has no Durable client; corefn deploy gives one "
            "only to the functions of triggers applied to a flow"
        )
    run = instance_id(key) if key is not None else uuid.uuid4().hex
    pending.append((orchestrator_name(flow), run, json.loads(payload)))
    return run


async def start_flows(app_ref: str, handler: str, binding: Any, context: Any, shape: str | None, client: Any, dead_letter: bool = False) -> Any:
    """Serve one invocation of a flow starter: the handler, then the starts it recorded. With
    ``dead_letter`` (Event Hubs and Cosmos DB triggers, which checkpoint past a failure), a failure
    on the last attempt writes the records to the handler's dead letter first, as
    :func:`corefn_azure.deadletter.run` does for any other handler."""
    try:
        return await _serve(app_ref, handler, binding, context, shape, client)
    except Exception as error:
        if dead_letter:
            from corefn_azure.deadletter import is_last_attempt, write

            if is_last_attempt(context):
                write(handler, binding, context, error)
        raise


async def _serve(app_ref: str, handler: str, binding: Any, context: Any, shape: str | None, client: Any) -> Any:
    from corefn_azure.runtime import run

    token = _pending.set([])
    try:
        result = run(app_ref, handler, binding, context, shape)
        starts = list(_pending.get() or ())
    finally:
        _pending.reset(token)
    for orchestrator, instance, data in starts:
        status = await client.get_status(instance)
        if getattr(status, "runtime_status", None) is not None:
            continue  # this event already started it (a redelivery)
        await client.start_new(orchestrator, instance, data)
    return result


__all__ = ["DURABLE_SETTING", "instance_id", "is_durable_app", "start_flow", "start_flows"]
