"""Flows on a cloud: whether an adapter deploys them, and starting a run there.

An adapter (:class:`corefn.kit.Provider`) says it deploys flows with ``deploys_flows=True``: its
``generate`` then compiles every flow of ``app.flows`` into the cloud's workflow service and
wires the functions that start them (or raises a :class:`~corefn.errors.ConfigurationError`
naming the flow and the construct it cannot express). For any other adapter, ``corefn deploy``
refuses an app with flows (:func:`check_deployable`) rather than ship a trigger whose every event
would fail.

Starting a run on a cloud goes through the adapter's ``start_flow(ctx, flow, payload, key)``
(:func:`start_on_cloud`, called by :meth:`corefn.context.Context.start_flow` off ``local``), given
the run's input as JSON text already held to the payload limit (:mod:`corefn.flows.limits`): it
returns the cloud's run id (a Step Functions execution ARN, a Durable instance id) and treats
``key`` as an idempotency key, as the local store does. An adapter without one makes
``ctx.start_flow`` a ConfigurationError, never a run silently started nowhere.

What a cloud's workflow service lacks or runs differently is data, not code: each adapter's
``workflows.toml`` ``[workflows.constructs.<construct>]`` (:data:`CONSTRUCTS`), read by the limits
check (rule ``flow-support``) and the lock-in report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.context import Context
    from corefn.kit import Provider


def deploys_flows(adapter: Provider) -> bool:
    return adapter.deploys_flows is True


def check_deployable(app: App, cloud: str, adapter: Provider) -> None:
    """ConfigurationError naming ``cloud`` and each flow, when ``app`` has flows the adapter
    does not deploy, or a flow that calls no handler (only waits)."""
    if app.flows and not deploys_flows(adapter):
        names = ", ".join(repr(flow.name) for flow in app.flows)
        raise ConfigurationError(
            f"app {app.name!r} declares flow(s) {names}, which corefn deploy cannot deploy to {cloud} yet "
            f"(the {cloud} adapter does not compile flows); run them with `corefn run`, or deploy to a cloud that does"
        )
    for flow in app.flows:
        if not flow.tasks():  # a state machine / orchestrator must call something, and a role name it
            raise ConfigurationError(f"flow {flow.name!r} calls no handler: a cloud's workflow service has nothing to run; add a step")


def starters(app: App) -> dict[str, str]:
    """Handler name → the flow it starts, for every trigger applied to a flow
    (``app.storage("originals")(flow)``): the functions a deployment must allow to start runs."""
    from corefn.flows.spec import FlowStarter

    return {spec.name: spec.handler.flow for spec in app.handlers if isinstance(spec.handler, FlowStarter)}


#: what a flow may use that a workflow service may lack or run differently: the node kinds beyond a
#: plain task, the rules on a node, and the flow's own timeout (the keys of each cloud's
#: ``workflows.toml`` ``[workflows.constructs.<construct>]``, read by the limits check and the report)
CONSTRUCTS = ("choice", "parallel", "map", "wait", "retry", "catch", "timeout")


def constructs(flow: Any) -> list[tuple[str, str]]:
    """``(node name, construct)`` for every construct of :data:`CONSTRUCTS` ``flow`` uses, in
    declaration order; the timeout is the flow's own (named after the flow)."""
    from corefn.flows.spec import Choice, Map, Parallel, Task, Wait, walk

    out: list[tuple[str, str]] = []
    for node in walk(flow.root):
        if isinstance(node, (Choice, Parallel, Map, Wait)):
            out.append((node.name, node.kind))
        if isinstance(node, Task) and node.retry:
            out.append((node.name, "retry"))
        if isinstance(node, (Task, Parallel, Map)) and node.catch:
            out.append((node.name, "catch"))
    out.append((flow.name, "timeout"))
    return out


def start_on_cloud(ctx: Context, flow: str, data: Any, key: str | None) -> str:
    """Start a run of ``flow`` on ``ctx.cloud`` through its adapter (see the module docstring)."""
    from corefn.adapters import get_adapter
    from corefn.flows.limits import encode

    start = get_adapter(ctx.cloud).start_flow
    if start is None:
        raise ConfigurationError(f"ctx.start_flow on {ctx.cloud}: the {ctx.cloud} adapter cannot start flows (it does not deploy them)")
    return str(start(ctx, flow, encode(flow, "the input", data), key))


__all__ = ["CONSTRUCTS", "check_deployable", "constructs", "deploys_flows", "start_on_cloud", "starters"]
