"""A flow (:mod:`corefn.flows`) compiled to Amazon States Language and the SAM
``AWS::Serverless::StateMachine`` that runs it.

Pure functions: :func:`definition` gives the state machine (with ``${fn_<handler>}``
placeholders for the steps' function ARNs), :func:`state_machine` the SAM resource around it,
whose role may invoke only the flow's own step functions (and their versions / aliases).

How each node becomes states (every state is named after its node; names are unique in a flow):

=============  ==========================================================================
``Task``       a ``Task`` on ``arn:aws:states:::lambda:invoke`` with ``"Payload.$": "$"`` and
               ``OutputPath: $.Payload`` (the handler's return value is the next input), plus
               a first retrier for Lambda's own transient errors, as AWS recommends
               (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
``Sequence``   its states chained by ``Next``.
``Choice``     a ``Choice``; every comparison is guarded by ``IsPresent`` (and ``IsNumeric`` /
               ``IsString`` for ordering), because ASL fails a run on a missing path where the
               local engine reads the rule as false.
``Parallel``   a ``Parallel`` state, one branch per node.
``Map``        a ``Map`` (``ItemsPath``, ``MaxConcurrency``, an inline ``ItemProcessor``).
``Wait``       a ``Wait`` with ``Seconds`` (rounded up: ASL takes whole seconds) or
               ``TimestampPath``.
=============  ==========================================================================

A catch: the fallback must get ``{"input", "error": {"type", "message"}}``, and an ASL catcher
can only put the error *into* the failed state's input. So a guarded state is preceded by a
``Pass`` that wraps its input (``{"input": …}``), reads it back with ``InputPath: $.input``, its
catchers write ``$.error``, and a ``Pass`` per catcher reshapes that into the local form. The
error's ``message`` is ASL's ``Cause``: for a Lambda error, the JSON text of the Lambda's
``errorMessage`` / ``errorType`` / ``stackTrace``.

Error names: the local engine matches a rule's names against the error's class *and its bases*;
Step Functions sees only the Lambda ``errorType``, the class's own name
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). So each name
is expanded into every loaded exception class that has it among its bases (the app's modules are
imported by then). ``"*"`` is ``States.ALL``, ``Exception`` is ``States.TaskFailed``,
``StepTimeout`` is ``States.Timeout`` and ``NoChoiceMatched`` is ``States.NoChoiceMatched``.

Where Step Functions differs from ``corefn run`` (said in the README too):

- retries count per retrier (ASL), not per task; back-off is in whole seconds, at least 1;
- when one parallel branch fails, Step Functions stops the others; locally they finish;
- a ``Wait`` timestamp must carry its offset (RFC 3339); locally a naive time is UTC.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from corefn.flows.compiling import expand, home_of
from corefn.flows.spec import ANY_ERROR, Catch, Choice, FlowSpec, Map, Node, Parallel, Retry, Sequence, Task, Wait, When

if TYPE_CHECKING:
    from collections.abc import Callable

    from corefn.app import App

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"

#: Lambda's own transient errors, retried before any rule of the flow
#: (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html)
LAMBDA_TRANSIENT: dict[str, Any] = {
    "ErrorEquals": ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"],
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 2.0,
}

#: error names of the flow's vocabulary → ASL's reserved names
RESERVED: dict[str, str] = {
    ANY_ERROR: "States.ALL",
    "Exception": "States.TaskFailed",
    "BaseException": "States.TaskFailed",
    "StepTimeout": "States.Timeout",
    "NoChoiceMatched": "States.NoChoiceMatched",
}


def function_id(handler: str) -> str:
    """The SAM logical id of a handler's function (as ``corefn_aws.generator`` names it)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", handler) if part) + "Function"


def placeholder(handler: str) -> str:
    """The ``DefinitionSubstitutions`` key of a handler's ARN."""
    return "fn_" + re.sub(r"[^A-Za-z0-9_]", "_", handler)


#: a Lambda that runs past its own timeout fails with this errorType
#: (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
LAMBDA_TIMEOUT = "Sandbox.Timedout"


def error_names(errors: tuple[str, ...], where: Callable[[type], bool] | None = None) -> list[str]:
    """``ErrorEquals`` for a rule's names (see the module docstring). ``StepTimeout`` also names
    the Lambda's own timeout, which Step Functions reports as a task failure, not ``States.Timeout``."""
    names = expand(errors, RESERVED, where)
    if "States.Timeout" in names and "StepTimeout" in errors:
        names.insert(names.index("States.Timeout") + 1, LAMBDA_TIMEOUT)
    return names


def _retrier(rule: Retry, where: Callable[[type], bool] | None) -> dict[str, Any]:
    return {
        "ErrorEquals": error_names(rule.errors, where),
        "IntervalSeconds": max(1, math.ceil(rule.backoff)),
        "MaxAttempts": rule.attempts - 1,
        "BackoffRate": float(rule.rate),
        "MaxDelaySeconds": max(1, math.ceil(rule.max_delay)),
    }


def _until_all(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``States.ALL`` must be the last rule: the ones after it could never apply."""
    for index, rule in enumerate(rules):
        if rule["ErrorEquals"] == ["States.ALL"]:
            return rules[: index + 1]
    return rules


def json_path(dotted: str) -> str:
    """``a.b.0`` → ``$.a.b[0]`` (keys that are not plain names in brackets)."""
    out = "$"
    for part in dotted.split(".") if dotted else ():
        if part.isdigit():
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += "['" + part.replace("'", "\\'") + "']"
    return out


def _comparison(rule: When) -> dict[str, Any]:
    var = json_path(rule.path)
    present = {"Variable": var, "IsPresent": True}
    if rule.op == "exists":
        return {"Variable": var, "IsPresent": bool(rule.value)}
    if rule.op == "in":
        return {"And": [present, {"Or": [_equals(var, v) for v in rule.value]}]}
    if rule.op in ("==", "!="):
        test = _equals(var, rule.value)
        return {"And": [present, test if rule.op == "==" else {"Not": test}]}
    kind, guard = ("Numeric", "IsNumeric") if isinstance(rule.value, (int, float)) and not isinstance(rule.value, bool) else ("String", "IsString")
    if kind == "String" and not isinstance(rule.value, str):
        raise ValueError(f"choice rule {rule.path!r} {rule.op} {rule.value!r}: ASL orders numbers and strings only")
    suffix = {"<": "LessThan", "<=": "LessThanEquals", ">": "GreaterThan", ">=": "GreaterThanEquals"}[rule.op]
    return {"And": [present, {"Variable": var, guard: True}, {"Variable": var, kind + suffix: rule.value}]}


def _equals(var: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"Variable": var, "IsNull": True}
    if isinstance(value, bool):
        return {"Variable": var, "BooleanEquals": value}
    if isinstance(value, (int, float)):
        return {"And": [{"Variable": var, "IsNumeric": True}, {"Variable": var, "NumericEquals": value}]}
    if isinstance(value, str):
        return {"And": [{"Variable": var, "IsString": True}, {"Variable": var, "StringEquals": value}]}
    raise ValueError(f"choice on {var}: ASL compares null, booleans, numbers and strings, not {value!r}")


class _Compiler:
    def __init__(self, app: App | None, flow: FlowSpec) -> None:
        self.app = app
        self.flow = flow
        self.where = home_of(app) if app is not None else None

    def scope(self, node: Node) -> dict[str, Any]:
        """A self-contained state machine (the flow, a branch, a map item)."""
        states: dict[str, Any] = {}
        start = self.chain(node, None, None, states)
        return {"StartAt": start, "States": _in_order(start, states)}

    def chain(self, node: Node, nxt: str | None, scope: str | None, out: dict[str, Any]) -> str:
        """Add ``node``'s states to ``out``, going on to ``nxt`` (None: end); a catch without
        ``resume`` goes on to ``scope`` (the enclosing sequence's continuation). The start state."""
        if isinstance(node, Sequence):
            start = nxt
            for child in reversed(node.steps):
                start = self.chain(child, start, nxt, out)
            assert start is not None
            return start
        if isinstance(node, Choice):
            choices = [{**_comparison(rule), "Next": self.chain(rule.then, nxt, scope, out)} for rule in node.rules]
            state: dict[str, Any] = {"Type": "Choice", "Choices": choices}
            if node.otherwise is not None:
                state["Default"] = self.chain(node.otherwise, nxt, scope, out)
            out[node.name] = state
            return node.name
        if isinstance(node, Wait):
            wait: dict[str, Any] = {"Type": "Wait"}
            if node.seconds is not None:
                wait["Seconds"] = math.ceil(node.seconds)
            else:
                wait["TimestampPath"] = json_path(node.until or "")
            out[node.name] = _then(wait, nxt)
            return node.name
        if isinstance(node, Task):
            state = {"Type": "Task", "Resource": LAMBDA_INVOKE,
                     "Parameters": {"FunctionName": "${" + placeholder(node.handler) + "}", "Payload.$": "$"},
                     "OutputPath": "$.Payload", "Retry": _until_all([dict(LAMBDA_TRANSIENT), *(_retrier(r, self.where) for r in node.retry)])}  # fmt: skip
            timeout = self._timeout(node.handler)
            if timeout:
                state["TimeoutSeconds"] = timeout
        elif isinstance(node, Parallel):
            state = {"Type": "Parallel", "Branches": [self.scope(branch) for branch in node.branches]}
        elif isinstance(node, Map):
            state = {"Type": "Map", "ItemsPath": json_path(node.items),
                     "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **self.scope(node.node)}}  # fmt: skip
            if node.concurrency:
                state["MaxConcurrency"] = node.concurrency
        else:  # pragma: no cover - the spec has no other node kinds
            raise TypeError(f"unknown flow node {node!r}")
        return self._guarded(node, state, nxt, scope, out)

    def _timeout(self, handler: str) -> int | None:
        if self.app is None:
            return None
        limit = self.app.handler(handler).options.timeout
        return math.ceil(limit) if limit else None

    def _guarded(self, node: Task | Parallel | Map, state: dict[str, Any], nxt: str | None, scope: str | None, out: dict[str, Any]) -> str:
        if not node.catch:
            out[node.name] = _then(state, nxt)
            return node.name
        catchers = []
        for index, rule in enumerate(node.catch):
            shape = f"{node.name}.catch{index}"
            out[shape] = {"Type": "Pass", "Next": self._fallback(rule, nxt, scope, out),
                          "Parameters": {"input.$": "$.input", "error": {"type.$": "$.error.Error", "message.$": "$.error.Cause"}}}  # fmt: skip
            catchers.append({"ErrorEquals": error_names(rule.errors, self.where), "ResultPath": "$.error", "Next": shape})
        out[node.name] = _then({**state, "InputPath": "$.input", "Catch": _until_all(catchers)}, nxt)
        wrap = f"{node.name}.input"
        out[wrap] = {"Type": "Pass", "Parameters": {"input.$": "$"}, "Next": node.name}
        return wrap

    def _fallback(self, rule: Catch, nxt: str | None, scope: str | None, out: dict[str, Any]) -> str:
        """A nested catch without ``resume`` inside the fallback still ends the original scope
        (the local engine's ``EndScope`` passes through the fallback)."""
        return self.chain(rule.then, nxt if rule.resume else scope, scope, out)


def _in_order(start: str, states: dict[str, Any]) -> dict[str, Any]:
    """States in the order a reader follows them (they were built back to front)."""
    order: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        state = states[name]
        todo += [c["Next"] for c in state.get("Choices", ())] + [c["Next"] for c in state.get("Catch", ())]
        todo += [state[k] for k in ("Next", "Default") if k in state]
    return {name: states[name] for name in order}


def _then(state: dict[str, Any], nxt: str | None) -> dict[str, Any]:
    return {**state, **({"Next": nxt} if nxt else {"End": True})}


def definition(flow: FlowSpec, app: App | None = None) -> dict[str, Any]:
    """The flow's ASL state machine; step functions appear as ``${fn_<handler>}`` (see
    :func:`placeholder`). With ``app``, a step whose handler declares ``timeout=`` gets
    ``TimeoutSeconds`` (``States.Timeout``, the local ``StepTimeout``)."""
    machine = _Compiler(app, flow).scope(flow.root)
    return {"Comment": f"corefn flow {flow.name}", **machine, "TimeoutSeconds": math.ceil(flow.timeout)}


def resource_id(flow: FlowSpec) -> str:
    return function_id(flow.name).removesuffix("Function") + "StateMachine"


def state_machine(flow: FlowSpec, app: App | None = None, function_id: Callable[[str], str] = function_id) -> dict[str, Any]:
    """``{logical id: AWS::Serverless::StateMachine}``: a STANDARD workflow (exactly-once
    steps, runs up to a year) named ``${ResourcePrefix}-<flow>``, whose role may call
    ``lambda:InvokeFunction`` on the step functions only."""
    handlers = sorted({task.handler for task in flow.tasks()})
    arns = [{"Fn::GetAtt": [function_id(h), "Arn"]} for h in handlers]
    versions = [{"Fn::Sub": "${" + function_id(h) + ".Arn}:*"} for h in handlers]
    props = {
        "Name": {"Fn::Sub": "${ResourcePrefix}-" + flow.name},
        "Type": "STANDARD",
        "Definition": definition(flow, app),
        "DefinitionSubstitutions": {placeholder(h): arn for h, arn in zip(handlers, arns, strict=True)},
        "Policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arns + versions}]}],
    }
    return {resource_id(flow): {"Type": "AWS::Serverless::StateMachine", "Properties": props}}


def resources(app: App, function_id: Callable[[str], str] = function_id) -> dict[str, Any]:
    """Every flow's state machine, keyed by logical id: what the SAM generator merges into the
    template's ``Resources`` (beside the step functions it already declares)."""
    out: dict[str, Any] = {}
    for flow in app.flows:
        out.update(state_machine(flow, app, function_id))
    return out


__all__ = ["LAMBDA_INVOKE", "resources", "definition", "error_names", "function_id", "json_path", "placeholder", "resource_id", "state_machine"]
