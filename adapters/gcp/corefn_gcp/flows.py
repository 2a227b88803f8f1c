"""A flow (:mod:`corefn.flows`) compiled to a Google Cloud Workflows definition (YAML).

Pure functions: :func:`definition` gives the workflow as data, :func:`to_yaml` its text and
:func:`deploy_command` the ``gcloud workflows deploy`` line the GCP script runs.

Each step's handler is a private HTTP function (``--no-allow-unauthenticated``, corefn_gcp's
``serve_invoke``); the workflow calls it with ``http.post`` and ``auth: {type: OIDC}`` (the
workflow's service account needs ``roles/run.invoker``), at
``https://REGION-PROJECT.cloudfunctions.net/NAME`` built from the workflow's own built-in
``GOOGLE_CLOUD_LOCATION`` / ``GOOGLE_CLOUD_PROJECT_ID`` (the script deploys both in one region).
https://cloud.google.com/workflows/docs/reference/environment-variables

How the nodes compile (every scope keeps its current value in one variable: ``data`` at the top,
its own inside a parallel branch or a map item, since Workflows lets a branch write only its own
variables and the ``shared`` ones — https://cloud.google.com/workflows/docs/reference/syntax/parallel-steps):

=============  ==========================================================================
``Task``       ``try`` (``http.post``, then the JSON answer becomes the value) with one
               ``retry`` per rule: rule 1 on the innermost ``try``, rule 2 around it, …; each
               predicate (a subworkflow) matches its rule's names and none of an earlier rule's,
               so the first matching rule applies, as locally.
``Sequence``   its steps in order.
``Choice``     a ``switch``; the value at the path is read with ``map.get`` (absent: null).
``Parallel``   a ``parallel`` step with one branch each; results in a shared map keyed by
               branch number, then listed in order.
``Map``        a ``parallel`` ``for`` loop (``concurrency_limit``) over the list, the same way.
``Wait``       ``sys.sleep`` (``seconds``) or ``sys.sleep_until`` (``until``).
=============  ==========================================================================

Errors: ``serve_invoke`` answers a failed handler with HTTP 500 and ``{"error": "<Class>:
<message>"}``; the ``corefn_error`` subworkflow reads that (or the tags of Workflows' own errors,
``TimeoutError``, ``ConnectionError``) into ``{"type", "message"}``. Rule names are expanded to
subclass names (:mod:`corefn.flows.compiling`). A catch runs in the ``except`` block; one
without ``resume`` ends its scope by raising ``{"corefn_scope": id, "result": …}``, which the
enclosing sequence's ``try`` turns back into its result.

Where Cloud Workflows differs from ``corefn run``: retries count per rule; back-off is in whole
seconds (at least 1); a Choice reads a present ``null`` as absent and cannot index lists in its
path (refused at generation); an error raised outside a handler (a bad ``until`` time) is
Workflows' own, not corefn's; the flow's ``timeout`` is not enforced (an execution may run a
year); when one parallel branch fails the others are stopped (locally they finish).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.flows.compiling import expand, home_of
from corefn.flows.spec import ANY_ERROR, Catch, Choice, FlowSpec, Map, Node, Parallel, Retry, Sequence, Task, Wait, When

if TYPE_CHECKING:
    from collections.abc import Callable

    from corefn.app import App

#: the flow's error vocabulary → what ``corefn_error`` reports for it
RESERVED: dict[str, str] = {ANY_ERROR: ANY_ERROR, "StepTimeout": "TimeoutError"}

#: ``http.post`` waits at most 1800 s (https://cloud.google.com/workflows/docs/reference/stdlib/http/post)
MAX_HTTP_TIMEOUT = 1800

ERROR_READER: dict[str, Any] = {
    "params": ["e"],
    "steps": [
        {"read_body": {"assign": [{"body": "${map.get(e, \"body\")}"}]}},
        {"corefn_answer": {"switch": [{"condition": "${get_type(body) == \"map\"}", "next": "read_said"}]}},
        {"read_tags": {"assign": [{"tags": "${map.get(e, \"tags\")}"}, {"message": "${default(map.get(e, \"message\"), \"\")}"}]}},
        {"untagged": {"switch": [{"condition": "${get_type(tags) != \"list\"}", "return": {"type": "Error", "message": "${message}"}}]}},
        {"tagged": {"return": {"type": "${tags[0]}", "message": "${message}"}}},
        {"read_said": {"assign": [{"said": "${map.get(body, \"error\")}"}]}},
        {"said_nothing": {"switch": [{"condition": "${get_type(said) != \"string\"}", "next": "read_tags"}]}},
        {"said": {"return": {"type": "${text.split(said, \":\")[0]}", "message": "${said}"}}},
    ],
}


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def function_url(function_name: str) -> str:
    return ('${"https://" + sys.get_env("GOOGLE_CLOUD_LOCATION") + "-" + sys.get_env("GOOGLE_CLOUD_PROJECT_ID")'
            f' + ".cloudfunctions.net/{function_name}"}}')  # fmt: skip


def _read(var: str, path: str, node: Node) -> str:
    if not path:
        return var
    parts = path.split(".")
    if any(p.isdigit() for p in parts):
        raise ConfigurationError(f"step {node.name!r}: Cloud Workflows cannot read list items in the path {path!r}; name a map key")
    return f"map.get({var}, {json.dumps(parts)})"


def _condition(rule: When, value: str) -> str:
    if rule.op == "exists":
        return f"${{{value} {'!=' if rule.value else '=='} null}}"
    literal = json.dumps(list(rule.value) if rule.op == "in" else rule.value)
    if rule.op == "in":
        return f"${{{value} in {literal}}}"
    if rule.op in ("==", "!=") and rule.value is None:  # a present null and an absent key read alike
        return f"${{{value} {rule.op} null}}"
    if rule.op in ("==", "!="):
        return f"${{{value} != null and {value} {rule.op} {literal}}}"
    raise AssertionError(f"ordering rule {rule.op!r} goes through _ordered")  # pragma: no cover


ORDERING = frozenset({"<", "<=", ">", ">="})


def _ordered(rule: When, value: str, flag: str, step: str) -> list[dict[str, Any]]:
    """An ordering rule as a flag set by steps that compare only values of the rule's type:
    comparing a string with a number is an error in Workflows where the local engine reads the
    rule as false, and whether ``and`` short-circuits is not documented."""
    if isinstance(rule.value, (int, float)) and not isinstance(rule.value, bool):
        kinds = f'${{get_type({value}) == "integer" or get_type({value}) == "double"}}'
    else:
        kinds = f'${{get_type({value}) == "string"}}'
    compare = {f"{step}_compare": {"assign": [{flag: f"${{{value} {rule.op} {json.dumps(rule.value)}}}"}]}}
    return [{f"{step}_reset": {"assign": [{flag: False}]}}, {f"{step}_typed": {"switch": [{"condition": kinds, "steps": [compare]}]}}]


class _Compiler:
    def __init__(self, app: App | None, flow: FlowSpec, function_name: Callable[[str], str]) -> None:
        self.app = app
        self.flow = flow
        self.function_name = function_name
        self.subworkflows: dict[str, Any] = {}
        self.where = home_of(app) if app is not None else None
        self.scopes = 0

    def scope(self, node: Node, var: str) -> list[dict[str, Any]]:
        """A scope's steps: a non-resuming catch inside ends here (see the module docstring)."""
        self.scopes += 1
        scope = f"s{self.scopes}"
        body = self.steps(node, var, scope)
        if not any(scope in json.dumps(step) for step in body):
            return body
        caught = f"{scope}_e"  # names unique in the workflow: a parallel branch may not assign a parent's variable
        end = [{f"{scope}_other": {"switch": [{"condition": f'${{map.get({caught}, "corefn_scope") != "{scope}"}}', "raise": f"${{{caught}}}"}]}},
               {f"{scope}_end": {"assign": [{var: f"${{{caught}.result}}"}]}}]  # fmt: skip
        return [{f"{scope}_scope": {"try": {"steps": body}, "except": {"as": caught, "steps": end}}}]

    def steps(self, node: Node, var: str, scope: str) -> list[dict[str, Any]]:
        if isinstance(node, Sequence):
            out: list[dict[str, Any]] = []
            for child in node.steps:
                out += self.scope(child, var) if isinstance(child, Sequence) else self.steps(child, var, scope)
            return out
        name = _ident(node.name)
        if isinstance(node, Choice):
            paths = list(dict.fromkeys(rule.path for rule in node.rules))
            values = {path: f"choice_{name}_{i}" for i, path in enumerate(paths)}
            cases, checks = [], []
            for index, rule in enumerate(node.rules):
                condition = _condition(rule, values[rule.path]) if rule.op not in ORDERING else f"${{choice_{name}_ok{index}}}"
                if rule.op in ORDERING:
                    checks += _ordered(rule, values[rule.path], f"choice_{name}_ok{index}", f"{name}_rule{index}")
                cases.append({"condition": condition, "steps": self.scope(rule.then, var) if isinstance(rule.then, Sequence) else self.steps(rule.then, var, scope)})
            otherwise = self.scope(node.otherwise, var) if isinstance(node.otherwise, Sequence) else self.steps(node.otherwise, var, scope) if node.otherwise else [
                {f"{name}_no_match": {"raise": {"tags": ["NoChoiceMatched"], "message": f"no rule of {node.name!r} matched and it has no otherwise"}}}]
            cases.append({"condition": "${true}", "steps": otherwise})
            reads = {f"{name}_read": {"assign": [{v: "${" + _read(var, path, node) + "}"} for path, v in values.items()]}}
            return [reads, *checks, {name: {"switch": cases}}]
        if isinstance(node, Wait):
            if node.seconds is not None:
                return [{name: {"call": "sys.sleep", "args": {"seconds": math.ceil(node.seconds)}}}]
            return [{name: {"call": "sys.sleep_until", "args": {"time": "${" + _read(var, node.until or "", node) + "}"}}}]
        if isinstance(node, Task):
            body = self._task(node, name, var)
        elif isinstance(node, Parallel):
            results = f"{name}_results"
            branches = []
            for index, branch in enumerate(node.branches):
                own = f"{name}_{index}"
                steps = [{f"{own}_in": {"assign": [{own: f"${{{var}}}"}]}}, *self.scope(branch, own),
                         {f"{own}_out": {"assign": [{f'{results}["{index}"]': f"${{{own}}}"}]}}]  # fmt: skip
                branches.append({f"branch_{own}": {"steps": steps}})
            listed = [f'${{{results}["{i}"]}}' for i in range(len(node.branches))]
            body = [{f"{name}_start": {"assign": [{results: {}}]}},
                    {name: {"parallel": {"shared": [results], "branches": branches}}},
                    {f"{name}_done": {"assign": [{var: listed}]}}]  # fmt: skip
        elif isinstance(node, Map):
            results, items, own = f"{name}_results", f"{name}_items", f"{name}_item"
            loop: dict[str, Any] = {"value": own, "index": f"{name}_i", "in": f"${{{items}}}", "steps": [
                *self.scope(node.node, own), {f"{own}_out": {"assign": [{f"{results}[string({name}_i)]": f"${{{own}}}"}]}}]}
            parallel: dict[str, Any] = {"shared": [results], "for": loop}
            if node.concurrency:
                parallel["concurrency_limit"] = node.concurrency
            collect = {"value": f"{name}_each", "index": f"{name}_j", "in": f"${{{items}}}", "steps": [
                {f"{name}_add": {"assign": [{var: f"${{list.concat({var}, {results}[string({name}_j)])}}"}]}}]}
            body = [{f"{name}_start": {"assign": [{results: {}}, {items: "${" + _read(var, node.items, node) + "}"}]}},
                    {name: {"parallel": parallel}},
                    {f"{name}_list": {"assign": [{var: []}]}},
                    {f"{name}_collect": {"for": collect}}]  # fmt: skip
        else:  # pragma: no cover
            raise TypeError(f"unknown flow node {node!r}")
        return self._guarded(node, name, var, scope, body)

    def _task(self, node: Task, name: str, var: str) -> list[dict[str, Any]]:
        limit = self.app.handler(node.handler).options.timeout if self.app is not None else None
        args = {"url": function_url(self.function_name(node.handler)), "auth": {"type": "OIDC"}, "body": f"${{{var}}}",
                "timeout": min(MAX_HTTP_TIMEOUT, math.ceil(limit)) if limit else MAX_HTTP_TIMEOUT}  # fmt: skip
        call: list[dict[str, Any]] = [{f"{name}_call": {"call": "http.post", "args": args, "result": f"{name}_answer"}},
                {f"{name}_result": {"assign": [{var: f"${{{name}_answer.body}}"}]}}]  # fmt: skip
        earlier: list[str] = []
        for index, rule in enumerate(node.retry):
            call = [{f"{name}_try{index}": {"try": {"steps": call}, "retry": self._retry(node, index, rule, earlier)}}]
            earlier += expand(rule.errors, RESERVED, self.where)
        return call

    def _retry(self, node: Task, index: int, rule: Retry, earlier: list[str]) -> dict[str, Any]:
        predicate = f"corefn_retry_{_ident(node.name)}_{index}"
        names = expand(rule.errors, RESERVED, self.where)
        steps: list[dict[str, Any]] = [{"read": {"call": "corefn_error", "args": {"e": "${e}"}, "result": "error"}},
                                       {"names": {"assign": [{"earlier": list(earlier) or [""]}, {"names": names}]}}]  # fmt: skip
        test = "true" if names == [ANY_ERROR] else "error.type in names"
        steps.append({"decide": {"return": f"${{{test} and not (error.type in earlier)}}"}})
        self.subworkflows[predicate] = {"params": ["e"], "steps": steps}
        rate = float(rule.rate)
        return {"predicate": f"${{{predicate}}}", "max_retries": rule.attempts - 1,
                "backoff": {"initial_delay": max(1, math.ceil(rule.backoff)), "max_delay": max(1, math.ceil(rule.max_delay)),
                            "multiplier": int(rate) if rate.is_integer() else rate}}  # fmt: skip

    def _guarded(self, node: Node, name: str, var: str, scope: str, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        catches: tuple[Catch, ...] = getattr(node, "catch", ())
        if not catches:
            return body
        failed = f"{name}_failed"
        cases = []
        caught, error = f"{name}_e", f"{name}_error"  # unique names (see scope())
        for index, rule in enumerate(catches):
            names = expand(rule.errors, RESERVED, self.where)
            test = "${true}" if names == [ANY_ERROR] else f"${{{error}.type in {json.dumps(names)}}}"
            given = {var: {"input": f"${{{var}}}", "error": {"type": f"${{{error}.type}}", "message": f"${{{error}.message}}"}}}
            then = self.scope(rule.then, var) if isinstance(rule.then, Sequence) else self.steps(rule.then, var, scope)
            steps = [{f"{name}_catch{index}": {"assign": [given]}}, *then]
            if not rule.resume:
                steps.append({f"{name}_catch{index}_end": {"raise": {"corefn_scope": scope, "result": f"${{{var}}}"}}})
            cases.append({"condition": test, "steps": steps})
        handler = [{f"{failed}": {"call": "corefn_error", "args": {"e": f"${{{caught}}}"}, "result": error}},
                   {f"{name}_caught": {"switch": [*cases, {"condition": "${true}", "raise": f"${{{caught}}}"}]}}]  # fmt: skip
        return [{f"{name}_guard": {"try": {"steps": body}, "except": {"as": caught, "steps": handler}}}]


def definition(flow: FlowSpec, app: App | None = None, function_name: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The workflow: ``main`` (argument: the run's input) plus ``corefn_error`` and one retry
    predicate per retry rule. ``function_name(handler)`` names a step's Cloud Function (default:
    ``<app>-<handler>`` as ``corefn_gcp.generator`` names them)."""
    prefix = app.name if app is not None else flow.name

    def default_name(handler: str) -> str:
        name = re.sub(r"[^a-z0-9-]+", "-", f"{prefix}-{handler}".lower()).strip("-")
        return (name if name[:1].isalpha() else f"fn-{name}")[:63].rstrip("-")

    compiler = _Compiler(app, flow, function_name or default_name)
    body = compiler.scope(flow.root, "data")
    main = {"params": ["input"], "steps": [{"start": {"assign": [{"data": "${input}"}]}}, *body, {"done": {"return": "${data}"}}]}
    return {"main": main, "corefn_error": ERROR_READER, **compiler.subworkflows}


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block YAML; scalars in JSON form (a JSON string is a YAML double-quoted scalar)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{key if PLAIN_KEY.fullmatch(key) else json.dumps(key)}:"
            lines.append(head + (" " + _scalar(item) if _flat(item) else "\n" + to_yaml(item, indent + 1).rstrip("\n")))
    elif isinstance(value, list):
        for item in value:
            if _flat(item):
                lines.append(f"{pad}- {_scalar(item)}")
            else:
                text = to_yaml(item, indent + 1)
                lines.append(f"{pad}- " + text.lstrip(" ").rstrip("\n"))
    else:
        lines.append(pad + _scalar(value))
    return "\n".join(lines) + "\n"


PLAIN_KEY = re.compile(r"[A-Za-z_][\w-]*")


def _flat(value: Any) -> bool:
    return not isinstance(value, (dict, list)) or not value


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def workflow_name(app_name: str, flow: FlowSpec) -> str:
    """Workflows names: a letter first, then letters, digits, hyphens and underscores, at most 64."""
    name = re.sub(r"[^a-z0-9_-]+", "-", f"{app_name}-{flow.name}".lower()).strip("-")
    return (name if name[:1].isalpha() else f"wf-{name}")[:64]


def deploy_command(app_name: str, flow: FlowSpec, source: str, account: str = '"$INVOKER_SA"') -> str:
    """The ``gcloud workflows deploy`` line: the workflow deployed beside the functions, running
    as ``account`` (bash text; deploy.sh passes the workflow's own account, which may invoke only
    the flow's step functions: :mod:`corefn_gcp._flows_deploy`)."""
    return (f"gcloud workflows deploy {workflow_name(app_name, flow)} --location=\"$REGION\" "
            f"--source={shlex.quote(source)} --service-account={account} "
            f"--description={shlex.quote('corefn flow ' + flow.name)}")  # fmt: skip


def files(app: App) -> dict[str, str]:
    """``workflows/<workflow>.yaml`` per flow: what the GCP generator writes beside main.py."""
    return {f"workflows/{workflow_name(app.name, flow)}.yaml": to_yaml(definition(flow, app)) for flow in app.flows}


def deploy_lines(app: App) -> list[str]:
    """The deploy script's lines for the flows (after the functions they call are deployed)."""
    lines: list[str] = []
    for flow in app.flows:
        lines += ["", f"# flow {flow.name!r}", deploy_command(app.name, flow, f"workflows/{workflow_name(app.name, flow)}.yaml")]
    return lines


__all__ = ["deploy_lines", "files", "definition", "deploy_command", "function_url", "to_yaml", "workflow_name"]
