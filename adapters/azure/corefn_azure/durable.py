"""A flow run as a Durable Functions orchestration (azure-functions-durable, Python v2 model).

The generated ``function_app.py`` (:mod:`corefn_azure.flows`) registers, per flow, an
orchestrator that calls :func:`orchestrate` and a sub-orchestrator that calls :func:`branch`,
and per step handler an activity that calls :func:`activity`. The orchestrator walks the same
frozen tree as the local engine (:mod:`corefn.flows.engine`), with the same rules, but each step
is an activity the Durable Task framework schedules, records and replays:

- a ``Task``: ``call_activity`` (``call_activity_with_retry`` when its only retry rule matches
  any error: the Python ``RetryOptions`` cannot filter errors,
  https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-error-handling);
  otherwise the rules are applied here, the back-off a durable timer;
- ``Parallel`` and ``Map``: ``task_all`` over activities, or over sub-orchestrations for a
  branch that is more than one plain call; a map with ``concurrency`` runs in batches of that
  size (Durable Functions has no window: a batch waits for its slowest item);
- ``Wait``: a durable timer (``create_timer``) at the orchestration's replay-safe clock.

An activity that fails raises :class:`ActivityFailed` whose message carries
``corefn-error:{"type", "message", "names"}`` (the class and its bases): the orchestrator reads
it back from Durable's ``"<Reason> \\n <Details>"`` exception, so retry and catch rules match base
classes exactly as locally — no expansion of names is needed on Azure.

Not enforced on Azure: the flow's ``timeout`` (an orchestration has none; terminate a stuck one
with the Durable client).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from corefn.flows.engine import EndScope, StepFailed, _compare, lookup
from corefn.flows.spec import ANY_ERROR, Choice, FlowSpec, Map, Node, Parallel, Sequence, Task, Wait, walk

if TYPE_CHECKING:
    from corefn.app import App

MARK = "corefn-error:"


class ActivityFailed(Exception):
    """What an activity raises for a failed handler (see the module docstring)."""


def activity_name(handler: str) -> str:
    """An activity's function name: Azure function names are letters, digits, ``_`` and ``-``."""
    return "step_" + re.sub(r"[^A-Za-z0-9_]", "_", handler)


def orchestrator_name(flow: str) -> str:
    return "flow_" + re.sub(r"[^A-Za-z0-9_]", "_", flow)


def branch_name(flow: str) -> str:
    return orchestrator_name(flow) + "_branch"


def activity(app: App, handler: str, payload: Any) -> Any:
    """Run one step's invoke handler (the activity's body)."""
    from corefn.context import Context
    from corefn.dispatch import dispatch
    from corefn.events import InvokeEvent

    ctx = Context(cloud="azure", app=app)
    outcome = dispatch(app, [InvokeEvent(payload=payload, name=handler)], ctx, pinned=handler).outcomes[0]
    if outcome.error is not None:
        failed = StepFailed.of(outcome.error)
        raise ActivityFailed(MARK + failed.to_json()) from outcome.error
    return json.loads(json.dumps(outcome.result))


def failure_of(error: BaseException) -> StepFailed:
    """The step failure an orchestrator sees in a failed task's exception."""
    if isinstance(error, StepFailed):
        return error
    text = str(error)
    at = text.find(MARK)
    if at >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(text, at + len(MARK))
        except ValueError:
            data = None
        if isinstance(data, dict):
            return StepFailed.from_json(json.dumps(data))
    return StepFailed(type(error).__name__, str(error), (type(error).__name__, "Exception"))


def _node_at(flow: FlowSpec, at: list[Any]) -> Node:
    owner = next(n for n in walk(flow.root) if n.name == at[0] and isinstance(n, (Parallel, Map)))
    return owner.branches[int(at[1])] if isinstance(owner, Parallel) else owner.node


def orchestrate(context: Any, flow: FlowSpec) -> Generator[Any, Any, Any]:
    """The body of a flow's orchestrator: the run's input in, the flow's result out."""
    return (yield from _scope(context, flow, flow.root, context.get_input()))


def branch(context: Any, flow: FlowSpec) -> Generator[Any, Any, Any]:
    """The body of a flow's sub-orchestrator: ``{"at": [node, index], "input": …}``."""
    given = context.get_input()
    try:
        return (yield from _scope(context, flow, _node_at(flow, given["at"]), given["input"]))
    except StepFailed as failure:  # the parent reads it back from "<Reason> \n <Details>"
        raise ActivityFailed(MARK + failure.to_json()) from None


def _scope(context: Any, flow: FlowSpec, node: Node, data: Any) -> Generator[Any, Any, Any]:
    try:
        return (yield from _node(context, flow, node, data))
    except EndScope as end:
        return end.result


def _node(context: Any, flow: FlowSpec, node: Node, data: Any) -> Generator[Any, Any, Any]:
    if isinstance(node, Sequence):
        for child in node.steps:
            try:
                data = yield from _node(context, flow, child, data)
            except EndScope as end:
                return end.result
        return data
    if isinstance(node, Choice):
        for rule in node.rules:
            if _compare(rule.op, lookup(data, rule.path), rule.value):
                return (yield from _node(context, flow, rule.then, data))
        if node.otherwise is None:
            raise StepFailed("NoChoiceMatched", f"no rule of {node.name!r} matched and it has no otherwise", ("NoChoiceMatched",))
        return (yield from _node(context, flow, node.otherwise, data))
    if isinstance(node, Wait):
        yield context.create_timer(_wake(context, node, data))
        return data
    assert isinstance(node, (Task, Parallel, Map))
    try:
        if isinstance(node, Task):
            return (yield from _task(context, node, data))
        return (yield from _fan(context, flow, node, data))
    except StepFailed as failure:
        for catcher in node.catch:
            if failure.matches(catcher.errors):
                result = yield from _node(context, flow, catcher.then, {"input": data, "error": failure.as_dict()})
                if catcher.resume:
                    return result
                raise EndScope(result) from None
        raise


def _wake(context: Any, node: Wait, data: Any) -> datetime:
    now: datetime = context.current_utc_datetime
    if node.seconds is not None:
        return now + timedelta(seconds=node.seconds)
    found = lookup(data, node.until or "")
    if not isinstance(found, str):
        raise StepFailed("FlowDataError", f"wait {node.name!r} needs an ISO 8601 time at {node.until!r}", ("FlowDataError",))
    when = datetime.fromisoformat(found.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def only_any(node: Task) -> bool:
    """A task whose one retry rule matches every error: Durable's own retry does exactly that."""
    return len(node.retry) == 1 and ANY_ERROR in node.retry[0].errors


def _call(context: Any, node: Task, data: Any) -> Any:
    if only_any(node):
        import azure.durable_functions as df

        rule = node.retry[0]
        options = df.RetryOptions(first_retry_interval_in_milliseconds=max(1, int(rule.backoff * 1000)), max_number_of_attempts=rule.attempts)
        options.backoff_coefficient = rule.rate
        options.max_retry_interval_in_milliseconds = max(1, int(rule.max_delay * 1000))
        return context.call_activity_with_retry(activity_name(node.handler), options, data)
    return context.call_activity(activity_name(node.handler), data)


def _task(context: Any, node: Task, data: Any) -> Generator[Any, Any, Any]:
    attempt = 0
    while True:
        attempt += 1
        try:
            return (yield _call(context, node, data))
        except Exception as error:  # noqa: BLE001 - Durable raises a plain Exception for a failed task
            failure = failure_of(error)
            rule = None if only_any(node) else next((r for r in node.retry if failure.matches(r.errors)), None)
            if rule is None or attempt >= rule.attempts:
                raise failure from None
            yield context.create_timer(context.current_utc_datetime + timedelta(seconds=rule.delay(attempt)))


def _plain(node: Node) -> Task | None:
    """``node`` when it is one call Durable can make in ``task_all`` (no catch, no rule of ours)."""
    return node if isinstance(node, Task) and not node.catch and (not node.retry or only_any(node)) else None


def _fan(context: Any, flow: FlowSpec, node: Parallel | Map, data: Any) -> Generator[Any, Any, Any]:
    if isinstance(node, Parallel):
        jobs = [(b, i, data) for i, b in enumerate(node.branches)]
        size = len(jobs)
    else:
        items = lookup(data, node.items)
        if not isinstance(items, list):
            raise StepFailed("FlowDataError", f"map {node.name!r} needs a list at {node.items or 'the input'!r}", ("FlowDataError",))
        jobs = [(node.node, 0, item) for item in items]
        size = node.concurrency or len(jobs)
    results: list[Any] = []
    for start in range(0, len(jobs), max(1, size)):
        tasks = [
            _call(context, plain, value) if (plain := _plain(child)) else context.call_sub_orchestrator(branch_name(flow.name), {"at": [node.name, index], "input": value})
            for child, index, value in jobs[start : start + max(1, size)]
        ]  # fmt: skip
        try:
            results += yield context.task_all(tasks)
        except Exception as error:  # noqa: BLE001 - the first failed branch, as a plain Exception
            raise failure_of(error) from None
    return results


__all__ = ["MARK", "ActivityFailed", "activity", "activity_name", "branch", "branch_name", "failure_of", "orchestrate", "orchestrator_name"]
