"""A flow (:mod:`corefn.flows`) compiled to an OpenWhisk sequence — or refused, naming why.

OpenWhisk's one native composition is the *sequence*: actions run one after another, each
action's result (a JSON object) the next one's parameters, the first failure ending the whole
activation (https://github.com/apache/openwhisk/blob/master/docs/actions.md#creating-action-sequences).
So a flow compiles when it is a plain sequence of steps: a single ``Task`` or a ``Sequence`` of
``Task`` nodes (nested sequences flattened) with no retry and no catch. :func:`sequence` gives the
wskdeploy ``sequences`` entry; it raises :class:`FlowNotSupported` naming the first construct
that cannot be expressed, and :func:`unsupported` lists them all (what the limits check and the
lock-in report read).

What a sequence cannot express (:data:`UNSUPPORTED`) runs on a *conductor action* instead (an
action returning ``{"action": next, "params": …, "state": …}`` that the controller loops on,
https://github.com/apache/openwhisk/blob/master/docs/conductors.md): :mod:`corefn_openwhisk.conductor`
replays the flow's own declaration there, so choice, retry, catch, parallel and map run, the
branches one after another. Only ``wait`` is refused (:func:`conductor_unsupported`): OpenWhisk has
no durable timer. The generator deploys every flow as a conductor (:func:`conductor_name`) beside
its steps' actions.

Where a sequence differs from ``corefn run`` even when it compiles: an action must return an
object, so a step returning anything else reaches the next step as ``{"result": value}``
(:func:`corefn_openwhisk.invoke.invoke_result`); the flow's ``timeout`` is not enforced (each
action has its own limit, and a sequence as a whole none beyond them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.flows.spec import Choice, FlowSpec, Map, Node, Parallel, Sequence, Task, Wait, walk

if TYPE_CHECKING:
    from corefn.app import App

#: construct → why an OpenWhisk sequence cannot express it
UNSUPPORTED: dict[str, str] = {
    "choice": "a sequence has no branching (needs a conductor action)",
    "parallel": "a sequence runs one action at a time (needs a conductor action and fan-out)",
    "map": "a sequence runs one action at a time over one input (needs a conductor action and fan-out)",
    "wait": "OpenWhisk has no durable timer; a sleeping action is billed and capped by its time limit",
    "retry": "a sequence stops at the first failure; it never retries an action",
    "catch": "a sequence stops at the first failure; it has no fallback",
}


class FlowNotSupported(ConfigurationError):
    """A flow uses a construct an OpenWhisk sequence cannot express."""

    def __init__(self, flow: str, step: str, construct: str) -> None:
        self.flow = flow
        self.step = step
        self.construct = construct
        super().__init__(f"flow {flow!r}: OpenWhisk cannot run {construct} step {step!r}: {UNSUPPORTED[construct]}")


def unsupported(flow: FlowSpec) -> list[tuple[str, str, str]]:
    """Every ``(step name, construct, why)`` of ``flow`` an OpenWhisk sequence cannot express."""
    out: list[tuple[str, str, str]] = []
    for node in walk(flow.root):
        kinds: list[str] = []
        if isinstance(node, (Choice, Parallel, Map, Wait)):
            kinds.append(node.kind)
        if isinstance(node, Task) and node.retry:
            kinds.append("retry")
        if isinstance(node, (Task, Parallel, Map)) and node.catch:
            kinds.append("catch")
        out += [(node.name, kind, UNSUPPORTED[kind]) for kind in kinds]
    return out


#: construct → why a conductor action cannot run it either
CONDUCTOR_UNSUPPORTED: dict[str, str] = {
    "wait": "OpenWhisk has no durable timer; a sleeping conductor is billed and capped by its time limit",
}


def conductor_unsupported(flow: FlowSpec) -> list[tuple[str, str, str]]:
    """Every ``(step name, construct, why)`` of ``flow`` a conductor cannot run (waits)."""
    return [(node.name, node.kind, CONDUCTOR_UNSUPPORTED[node.kind]) for node in walk(flow.root) if isinstance(node, Wait)]


def conductor_name(flow: FlowSpec) -> str:
    """The conductor action's name: ``flow-<flow name>`` (handlers keep their own names)."""
    return f"flow-{flow.name}"


def check_conductor(flow: FlowSpec) -> None:
    """Raise :class:`FlowNotSupported` for the first step a conductor cannot run."""
    problems = conductor_unsupported(flow)
    if problems:
        step, construct, why = problems[0]
        raise ConfigurationError(f"flow {flow.name!r}: OpenWhisk cannot run {construct} step {step!r}: {why}")


def _steps(node: Node) -> list[Task]:
    if isinstance(node, Sequence):
        return [task for child in node.steps for task in _steps(child)]
    assert isinstance(node, Task)
    return [node]


def sequence(flow: FlowSpec, action_name: Callable[[str], str] = str) -> dict[str, Any]:
    """``{flow name: {"actions": "a, b, c"}}`` for a wskdeploy package's ``sequences``;
    ``action_name(handler)`` names a step's action (the generator's: the handler's name)."""
    problems = unsupported(flow)
    if problems:
        step, construct, _ = problems[0]
        raise FlowNotSupported(flow.name, step, construct)
    return {flow.name: {"actions": ", ".join(action_name(task.handler) for task in _steps(flow.root))}}


def sequences(app: App, action_name: Callable[[str], str] = str) -> dict[str, Any]:
    """The manifest package's ``sequences`` for every flow of ``app``; the first flow that
    cannot be one raises :class:`FlowNotSupported`."""
    out: dict[str, Any] = {}
    for flow in app.flows:
        out.update(sequence(flow, action_name))
    return out


__all__ = [
    "CONDUCTOR_UNSUPPORTED", "UNSUPPORTED", "FlowNotSupported", "check_conductor", "conductor_name",
    "conductor_unsupported", "sequence", "sequences", "unsupported",
]  # fmt: skip
