"""A flow run by an OpenWhisk *conductor action*: choice, retry, catch, parallel and map, which a
sequence cannot express.

A conductor is an action annotated ``conductor: true``. It returns a continuation ``{"action",
"params", "state"}``; the controller invokes ``action`` on ``params``, then the conductor again
on that action's result with ``state``'s fields added; a continuation without ``action`` ends the
run with its ``params`` as the result, an ``{"error": ...}`` ends it failed
(https://github.com/apache/openwhisk/blob/master/docs/conductors.md, "Continuations").

Each conductor activation is stateless, so corefn's conductor **replays** the flow, as a Durable
Functions orchestrator does: the state holds the flow's input and the log of every step
activation so far (its result or its error); the flow's tree (the app's own declaration, in the
zip) is walked from the start with :mod:`corefn.flows.engine`'s rules, each step answered from the
log, until the first step the log has not seen: that one is the next continuation. So choice
rules, retry and catch matching (by the error's class *and its bases*, whose names the step
reports), ``resume``, map over a list at a path and the payload the fallback gets are the local
engine's.

Where it differs from ``corefn run``, by the platform's rules:

- branches of a ``parallel`` and items of a ``map`` run **one after another** (a conductor
  invokes one action at a time); results, order and failure handling are the same;
- a retry's back-off is slept inside the conductor activation (billed, and capped at
  :data:`MAX_SLEEP` seconds by the conductor's own time limit);
- ``wait`` is refused at generation (no durable timer: :mod:`corefn_openwhisk.flows`);
- the controller caps a run's component activations at the maximum sequence length (50 by
  default, ``whisk.actionSequence.maxLength``), retries and map items included, and the state
  travels in every activation's parameters (1 MB): a long map needs a smaller flow;
- the flow's ``timeout`` is checked at each step boundary (a step already running is not cut).

Steps are the app's invoke actions, called with ``{"__corefn_input": data}`` so any JSON value
arrives exactly (a bare value would be boxed as ``{"value": v}``); they answer
``{"__corefn_output": result}`` or ``{"error": {"type", "message", "names"}}``
(:func:`corefn_openwhisk.runtime.run`). An error from the platform itself (a step's time limit,
a crash) arrives as a string and is matched as ``ActionError`` (``StepTimeout`` for a time limit).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.flows.engine import _MISSING, EndScope, StepFailed, _compare, lookup
from corefn.flows.spec import Choice, Map, Node, Parallel, Sequence, Task, Wait

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.flows.spec import FlowSpec

STATE = "$corefn"
INPUT = "__corefn_input"
OUTPUT = "__corefn_output"
MAX_SLEEP = 240.0
#: how the conductor sleeps a retry's back-off (tests record instead)
SLEEP: list[Callable[[float], None]] = [time.sleep]


class _Call(Exception):
    """The replay reached a step the log has not seen: invoke it."""

    def __init__(self, handler: str, data: Any, delay: float) -> None:
        self.handler = handler
        self.data = data
        self.delay = delay
        super().__init__(handler)


class _Failed(Exception):
    """The flow failed for good (no rule caught it)."""


def _failure(error: Any) -> StepFailed:
    """A step's error result as the engine's StepFailed (class name and its bases' names)."""
    if isinstance(error, dict):
        kind = str(error.get("type") or "ActionError")
        names = tuple(str(n) for n in error.get("names") or (kind,))
        return StepFailed(kind, str(error.get("message", "")), names)
    text = str(error)
    kind = "StepTimeout" if "exceeded its time limit" in text else "ActionError"
    return StepFailed(kind, text, (kind,))


class Replay:
    """One conductor activation's walk of the flow over the log (see the module docstring)."""

    def __init__(self, flow: FlowSpec, log: list[dict[str, Any]]) -> None:
        self.flow = flow
        self.log = log
        self.cursor = 0

    def run(self, data: Any) -> Any:
        try:
            return self.node(self.flow.root, data)
        except EndScope as end:
            return end.result

    def node(self, node: Node, data: Any) -> Any:
        if isinstance(node, Sequence):
            for child in node.steps:
                try:
                    data = self.node(child, data)
                except EndScope as end:
                    return end.result
            return data
        if isinstance(node, Task):
            return self._guarded(node, data, lambda: self._task(node, data))
        if isinstance(node, Choice):
            picked = next((r.then for r in node.rules if _compare(r.op, lookup(data, r.path), r.value)), node.otherwise)
            if picked is None:
                raise StepFailed("NoChoiceMatched", f"no rule of {node.name!r} matched and it has no otherwise", ("NoChoiceMatched",))
            return self.node(picked, data)
        if isinstance(node, Parallel):
            return self._guarded(node, data, lambda: self._all([(b, data) for b in node.branches]))
        if isinstance(node, Map):
            return self._guarded(node, data, lambda: self._map(node, data))
        if isinstance(node, Wait):
            raise ConfigurationError(f"flow {self.flow.name!r}: wait {node.name!r} cannot run on an OpenWhisk conductor")
        raise ConfigurationError(f"unknown flow node {node!r}")

    def _all(self, jobs: list[tuple[Node, Any]]) -> list[Any]:
        """Every branch or item in turn; a failure fails the node after the others ran, as the
        local engine's does (the first failure is raised)."""
        results: list[Any] = []
        failures: list[StepFailed] = []
        for node, data in jobs:
            try:
                results.append(self.node(node, data))
            except EndScope as end:
                results.append(end.result)
            except StepFailed as failure:
                failures.append(failure)
        if failures:
            raise failures[0]
        return results

    def _map(self, node: Map, data: Any) -> list[Any]:
        items = lookup(data, node.items)
        if not isinstance(items, list):
            found = "nothing" if items is _MISSING else type(items).__name__
            raise _Failed(f"flow {self.flow.name!r}: map {node.name!r} needs a list at {node.items or 'the input'!r}, found {found}")
        return self._all([(node.node, item) for item in items])

    def _task(self, node: Task, data: Any) -> Any:
        attempt = 1
        while True:
            if self.cursor >= len(self.log):
                raise _Call(node.handler, data, 0.0)
            entry = self.log[self.cursor]
            self.cursor += 1
            if "error" not in entry:
                return entry.get("ok")
            failure = _failure(entry["error"])
            rule = next((r for r in node.retry if failure.matches(r.errors)), None)
            if rule is None or attempt >= rule.attempts:
                raise failure
            if self.cursor >= len(self.log):
                raise _Call(node.handler, data, rule.delay(attempt))
            attempt += 1

    def _guarded(self, node: Task | Parallel | Map, data: Any, body: Callable[[], Any]) -> Any:
        try:
            return body()
        except StepFailed as failure:
            rule = next((r for r in node.catch if failure.matches(r.errors)), None)
            if rule is None:
                raise
            result = self.node(rule.then, {"input": data, "error": failure.as_dict()})
            if rule.resume:
                return result
            raise EndScope(result) from None


def _qualified(handler: str) -> str:
    """``/namespace/package/action`` of a step: the conductor's own package (conductors.md asks
    for fully qualified names)."""
    own = os.environ.get("__OW_ACTION_NAME", "")
    prefix = own.rsplit("/", 1)[0] if own.count("/") >= 2 else f"/{os.environ.get('__OW_NAMESPACE', '_')}"
    return f"{prefix}/{handler}"


def conduct(app: App, flow_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """One conductor activation: the next continuation, the flow's result, or its error."""
    flow = app.get_flow(flow_name)
    state = params.get(STATE)
    if not isinstance(state, dict):  # the first activation: the params are the flow's input
        data = params[INPUT] if INPUT in params else {k: v for k, v in params.items() if not k.startswith(("__corefn_", "__ow_"))}
        state = {"input": data, "log": [], "started": time.time()}
    else:
        if "error" in params:
            state["log"].append({"error": params["error"]})
        else:
            state["log"].append({"ok": params.get(OUTPUT)})
    if time.time() - float(state["started"]) > flow.timeout:
        return {"error": {"type": "FlowTimedOut", "message": f"flow {flow.name!r} ran past its {flow.timeout:g} s timeout"}}
    replay = Replay(flow, state["log"])
    try:
        result = replay.run(state["input"])
    except _Call as call:
        if call.delay:
            SLEEP[0](min(call.delay, MAX_SLEEP))
        return {"action": _qualified(call.handler), "params": {INPUT: call.data}, "state": {STATE: state}}
    except StepFailed as failure:
        return {"error": {"type": failure.kind, "message": failure.message, "flow": flow.name}}
    except _Failed as failed:
        return {"error": {"type": "FlowFailed", "message": str(failed), "flow": flow.name}}
    return {"params": result}


def start_flow(ctx: Any, flow: str, payload: str, key: str | None) -> str:
    """Start a run from a deployed action (``ctx.start_flow``): a non-blocking invocation of the
    flow's conductor through the controller's REST API, ``POST /api/v1/namespaces/NS/actions/
    PKG/flow-NAME?blocking=false`` (https://github.com/apache/openwhisk/blob/master/docs/rest_api.md),
    with the action's own ``__OW_API_HOST`` and ``__OW_API_KEY`` (given to actions annotated
    ``provide-api-key``, which the generator sets on every flow starter). Returns the activation
    id. OpenWhisk has no idempotent invocation: ``key`` travels in the input's state for the
    logs, and a redelivered trigger starts a second run."""
    import base64
    import json
    import urllib.request
    from urllib.parse import quote

    from corefn.errors import SinkUnavailableError

    host, api_key = os.environ.get("__OW_API_HOST", ""), os.environ.get("__OW_API_KEY", "")
    if not host or not api_key:
        raise ConfigurationError("ctx.start_flow on openwhisk needs __OW_API_HOST and __OW_API_KEY: annotate the action provide-api-key: true")
    own = os.environ.get("__OW_ACTION_NAME", "").strip("/").split("/")
    namespace = own[0] if own and own[0] else os.environ.get("__OW_NAMESPACE", "_")
    package = own[1] if len(own) == 3 else None
    action = f"flow-{flow}" if package is None else f"{package}/flow-{flow}"
    url = f"{host.rstrip('/')}/api/v1/namespaces/{quote(namespace)}/actions/{quote(action)}?blocking=false"
    body = json.dumps({INPUT: json.loads(payload), "__corefn_start_key": key}).encode()
    token = base64.b64encode(api_key.encode()).decode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", "Authorization": f"Basic {token}"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            found = json.loads(answer.read() or b"{}")
    except OSError as error:
        raise SinkUnavailableError(f"flow-{flow}", f"OpenWhisk did not accept the start of flow {flow!r}: {error}", error) from error
    return str(found.get("activationId") or "")


def make_conductor(app_ref: str, flow_name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The generated conductor action's ``main``."""

    def main(params: dict[str, Any]) -> dict[str, Any]:
        from corefn.loader import load_app

        try:
            return conduct(load_app(app_ref), flow_name, params)
        except ConfigurationError as error:
            return {"error": {"type": type(error).__name__, "message": str(error)}}

    return main


__all__ = ["INPUT", "OUTPUT", "SLEEP", "STATE", "Replay", "conduct", "make_conductor", "start_flow"]
