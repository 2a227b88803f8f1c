"""A flow's declaration: a frozen tree of step nodes, data a compiler can walk.

One declaration feeds the local engine (:mod:`corefn.flows.engine`) now and, later, the
compilers to Step Functions, Durable Functions, Cloud Workflows and OpenWhisk compositions. So
nodes hold names, never callables: a :class:`Task` names one of the app's ``@app.invoke``
handlers, errors are matched by class *name* (what ``ErrorEquals`` in Amazon States Language
compares), conditions are ``(path, op, value)`` triples, not lambdas.

The nodes, and what each passes on (a step's input is the previous step's result, as JSON):

=============  ==========================================================================
``Task``       runs an invoke handler with the input; its return value is the result.
               ``retry``: rules tried in order, the first whose ``errors`` match applies
               (ASL ``Retry``). ``catch``: the same for fallbacks (ASL ``Catch``; it goes
               on tasks, parallels and maps, where Step Functions allows it). A handler
               declaring ``timeout=`` that runs past it fails the step with ``StepTimeout``
               (ASL ``States.Timeout``), which rules can name.
``Sequence``   runs its steps one after another (a list stands for one).
``Choice``     the first ``When`` rule true of the input runs its node; else ``otherwise``;
               no match and no ``otherwise`` fails the flow (ASL ``States.NoChoiceMatched``).
``Parallel``   every branch gets the same input; the result is the list of their results.
               One failing branch fails the node (after the others finish).
``Map``        runs ``node`` over each item of the list at ``items`` (a dotted path in the
               input; ``""``: the input itself), at most ``concurrency`` at a time (0: no
               limit; locally at most 32 threads); the result is the list of results.
``Wait``       ``seconds``, or ``until`` a time (ISO 8601) at a dotted path of the input;
               passes its input on.
=============  ==========================================================================

A catch's fallback gets ``{"input": <the failed step's input>, "error": {"type", "message"}}``.
With ``resume=False`` (the default) the rest of the enclosing sequence is skipped and the
fallback's result is that sequence's result (the flow's, at top level; the branch's, inside a
parallel branch or a map item): in ASL terms the catcher's state ends its scope. With
``resume=True`` the sequence continues with the fallback's result.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as Seq
from typing import Any, ClassVar

from corefn._record import Record, _set
from corefn.errors import ConfigurationError
from corefn.specs import check_name

#: every error but the terminal ones (payload too large, bad data, flow timeout), as ASL's
#: ``States.ALL`` "can't catch the States.DataLimitExceeded terminal error type and runtime error
#: types" (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
ANY_ERROR = "*"

#: Choice operators → how the value at ``path`` is compared with ``value``
OPERATORS: dict[str, str] = {
    "==": "equal", "!=": "not equal", "<": "less", "<=": "less or equal", ">": "greater",
    ">=": "greater or equal", "in": "one of value (a list)", "exists": "present (value True) or absent (False)",
}


def _errors(errors: str | type[BaseException] | Iterable[str | type[BaseException]]) -> tuple[str, ...]:
    items = [errors] if isinstance(errors, (str, type)) else list(errors)
    names = tuple(e if isinstance(e, str) else e.__name__ for e in items)
    if not names:
        raise ConfigurationError("errors must name at least one error class, or '*' for any")
    return names


class Retry(Record):
    """Retry a failed task: up to ``attempts`` runs in all (the first included), waiting
    ``backoff`` seconds, then ``backoff * rate``, … at most ``max_delay``. ``errors`` are class
    names matched against the error's class and its bases (``"SinkError"`` matches
    ``SinkThrottledError``); ``"*"`` matches any non-terminal error. Attempts count per task,
    whichever rule applied (ASL counts per retrier). On Step Functions ``ErrorEquals`` sees only
    the Lambda's ``errorType`` (the class's own name): a compiler must expand a base-class name
    into the subclasses it can name."""

    __slots__ = ("errors", "attempts", "backoff", "rate", "max_delay")
    errors: tuple[str, ...]
    attempts: int
    backoff: float
    rate: float
    max_delay: float

    def __init__(
        self,
        errors: str | type[BaseException] | Iterable[str | type[BaseException]] = ANY_ERROR,
        attempts: int = 3,
        backoff: float = 1.0,
        rate: float = 2.0,
        max_delay: float = 300.0,
    ) -> None:
        if attempts < 1 or backoff < 0 or rate < 1 or max_delay < 0:
            raise ConfigurationError("Retry needs attempts >= 1, backoff >= 0, rate >= 1, max_delay >= 0")
        _set(self, "errors", _errors(errors))
        _set(self, "attempts", int(attempts))
        _set(self, "backoff", float(backoff))
        _set(self, "rate", float(rate))
        _set(self, "max_delay", float(max_delay))

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.backoff * self.rate ** max(0, attempt - 1)))


class Node(Record):
    """Base of the step nodes. ``name`` is unique in its flow (a state name once compiled)."""

    __slots__ = ()
    kind: ClassVar[str] = "node"
    name: str

    def children(self) -> tuple[Node, ...]:
        return ()


class Catch(Record):
    """On an error matching ``errors`` (after retries), run ``then`` (see the module docstring
    for what it receives and where the flow goes next)."""

    __slots__ = ("then", "errors", "resume")
    then: Node
    errors: tuple[str, ...]
    resume: bool

    def __init__(
        self,
        then: Node | Seq[Node],
        errors: str | type[BaseException] | Iterable[str | type[BaseException]] = ANY_ERROR,
        resume: bool = False,
    ) -> None:
        _set(self, "then", as_node(then))
        _set(self, "errors", _errors(errors))
        _set(self, "resume", bool(resume))


def _rules(value: Any, kind: type[Record]) -> tuple[Any, ...]:
    if value is None:
        return ()
    items = (value,) if isinstance(value, (kind, Node)) or not isinstance(value, Iterable) else tuple(value)
    if kind is Catch:
        items = tuple(item if isinstance(item, Catch) else Catch(item) for item in items)
    for item in items:
        if not isinstance(item, kind):
            raise ConfigurationError(f"expected {kind.__name__} rules, got {item!r}")
    return items


class Task(Node):
    __slots__ = ("handler", "name", "retry", "catch")
    kind: ClassVar[str] = "task"
    handler: str
    retry: tuple[Retry, ...]
    catch: tuple[Catch, ...]

    def __init__(
        self,
        handler: str,
        name: str | None = None,
        retry: Retry | Seq[Retry] | None = None,
        catch: Catch | Node | Seq[Catch] | None = None,
    ) -> None:
        _set(self, "handler", check_name(handler, "task handler"))
        _set(self, "name", check_name(name or handler, "step"))
        _set(self, "retry", _rules(retry, Retry))
        _set(self, "catch", _rules(catch, Catch))

    def children(self) -> tuple[Node, ...]:
        return tuple(c.then for c in self.catch)


class Sequence(Node):
    __slots__ = ("steps", "name")
    kind: ClassVar[str] = "sequence"
    steps: tuple[Node, ...]

    def __init__(self, steps: Seq[Node], name: str | None = None) -> None:
        nodes = tuple(as_node(s) for s in steps)
        if not nodes:
            raise ConfigurationError("a sequence needs at least one step")
        _set(self, "steps", nodes)
        _set(self, "name", check_name(name or f"sequence-{nodes[0].name}", "step"))

    def children(self) -> tuple[Node, ...]:
        return self.steps


class When(Record):
    """One Choice rule: ``op`` (see :data:`OPERATORS`) compares the value at the dotted
    ``path`` of the input (``""``: the input itself) with ``value``; true runs ``then``. A path
    that is absent makes every operator false except ``exists`` with ``value=False``."""

    __slots__ = ("path", "op", "value", "then")
    path: str
    op: str
    value: Any
    then: Node

    def __init__(self, path: str, op: str, value: Any, then: Node | Seq[Node]) -> None:
        if op not in OPERATORS:
            raise ConfigurationError(f"unknown choice operator {op!r}; known: {', '.join(OPERATORS)}")
        if op == "in" and not isinstance(value, (list, tuple)):
            raise ConfigurationError("the 'in' operator needs a list value")
        _set(self, "path", path)
        _set(self, "op", op)
        _set(self, "value", tuple(value) if isinstance(value, list) else value)
        _set(self, "then", as_node(then))


class Choice(Node):
    __slots__ = ("rules", "otherwise", "name")
    kind: ClassVar[str] = "choice"
    rules: tuple[When, ...]
    otherwise: Node | None

    def __init__(self, rules: Seq[When], otherwise: Node | Seq[Node] | None = None, name: str = "choice") -> None:
        if not rules:
            raise ConfigurationError("a choice needs at least one when(...) rule")
        _set(self, "rules", tuple(rules))
        _set(self, "otherwise", as_node(otherwise) if otherwise is not None else None)
        _set(self, "name", check_name(name, "step"))

    def children(self) -> tuple[Node, ...]:
        return tuple(r.then for r in self.rules) + ((self.otherwise,) if self.otherwise else ())


class Parallel(Node):
    __slots__ = ("branches", "name", "catch")
    kind: ClassVar[str] = "parallel"
    branches: tuple[Node, ...]
    catch: tuple[Catch, ...]

    def __init__(self, branches: Seq[Node | Seq[Node]], name: str = "parallel", catch: Catch | Node | Seq[Catch] | None = None) -> None:
        if len(branches) < 1:
            raise ConfigurationError("a parallel step needs at least one branch")
        _set(self, "branches", tuple(as_node(b) for b in branches))
        _set(self, "name", check_name(name, "step"))
        _set(self, "catch", _rules(catch, Catch))

    def children(self) -> tuple[Node, ...]:
        return self.branches + tuple(c.then for c in self.catch)


class Map(Node):
    __slots__ = ("items", "node", "concurrency", "name", "catch")
    kind: ClassVar[str] = "map"
    items: str
    node: Node
    concurrency: int
    catch: tuple[Catch, ...]

    def __init__(
        self, items: str, node: Node | Seq[Node], concurrency: int = 0, name: str = "map", catch: Catch | Node | Seq[Catch] | None = None
    ) -> None:
        if concurrency < 0:
            raise ConfigurationError("map concurrency must be >= 0 (0: no limit)")
        _set(self, "items", items)
        _set(self, "node", as_node(node))
        _set(self, "concurrency", int(concurrency))
        _set(self, "name", check_name(name, "step"))
        _set(self, "catch", _rules(catch, Catch))

    def children(self) -> tuple[Node, ...]:
        return (self.node,) + tuple(c.then for c in self.catch)


class Wait(Node):
    __slots__ = ("seconds", "until", "name")
    kind: ClassVar[str] = "wait"
    seconds: float | None
    until: str | None

    def __init__(self, seconds: float | None = None, until: str | None = None, name: str = "wait") -> None:
        if (seconds is None) == (until is None):
            raise ConfigurationError("wait needs exactly one of seconds=... or until='path.to.time'")
        if seconds is not None and seconds < 0:
            raise ConfigurationError("wait seconds must be >= 0")
        _set(self, "seconds", None if seconds is None else float(seconds))
        _set(self, "until", until)
        _set(self, "name", check_name(name, "step"))


def as_node(value: Node | Seq[Node]) -> Node:
    """A node, or a list of nodes (a sequence)."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else Sequence(value)
    raise ConfigurationError(f"expected a flow step (step(...), parallel(...), ...) or a list of them, got {value!r}")


def walk(node: Node) -> Iterable[Node]:
    """Every node of the tree, depth first (what a compiler and the checks iterate)."""
    yield node
    for child in node.children():
        yield from walk(child)


class FlowSpec(Record):
    """One declared flow: its ``name``, the ``root`` node, and ``timeout`` in seconds for a whole
    run (ASL ``TimeoutSeconds``). Applying a trigger decorator to it (``app.storage(...)(flow)``)
    starts a run per event, with the event's JSON form as input."""

    __slots__ = ("name", "root", "timeout")
    is_flow: ClassVar[bool] = True
    name: str
    root: Node
    timeout: float

    def __init__(self, name: str, root: Node, timeout: float = 300.0) -> None:
        if timeout <= 0:
            raise ConfigurationError("flow timeout must be > 0 seconds")
        _set(self, "name", check_name(name, "flow"))
        _set(self, "root", root)
        _set(self, "timeout", float(timeout))
        seen: set[str] = set()
        for node in walk(root):
            if node.name in seen and not isinstance(node, Sequence):
                raise ConfigurationError(
                    f"flow {name!r}: two steps are named {node.name!r}; give one a name=... (step names become state names)"
                )
            seen.add(node.name)

    def to_dict(self) -> dict[str, Any]:
        """The tree as plain JSON data (``{"kind": "task", "handler": ..., "retry": [...]}``):
        what a compiler, a diagram or a diff reads without importing these classes."""
        return {"name": self.name, "timeout": self.timeout, "root": as_data(self.root)}

    def tasks(self) -> list[Task]:
        return [n for n in walk(self.root) if isinstance(n, Task)]

    def fingerprint(self) -> str:
        """Changes when the tree changes: a run started under another definition is not resumed
        under this one (its recorded steps would not line up)."""
        import hashlib

        return hashlib.sha256(repr(self.root).encode()).hexdigest()[:16]


def as_data(value: Any) -> Any:
    """Records as ``{"kind"?, field: value}`` dicts, tuples as lists, the rest as is."""
    if isinstance(value, Record):
        kind = getattr(type(value), "kind", None)
        head = {"kind": kind} if isinstance(kind, str) else {}
        return {**head, **{f: as_data(getattr(value, f)) for f in value._fields}}
    if isinstance(value, (tuple, list)):
        return [as_data(v) for v in value]
    return value


def check_flow(app: Any, flow: FlowSpec) -> None:
    """Every task names an invoke handler of ``app`` (checked when the flow is run, since the
    handlers may be declared after the flow in the module)."""
    for task in flow.tasks():
        spec = app.handler(task.handler)
        if spec.kind != "invoke":
            raise ConfigurationError(
                f"flow {flow.name!r}: step {task.name!r} names handler {task.handler!r}, a {spec.kind} handler; steps run @app.invoke handlers"
            )


class FlowStarter:
    """What stands in for a handler when a trigger decorator is applied to a flow: it starts a
    run with the event's JSON form. The event's identity keys the run (its id, or what
    identifies the change for providers that give none: S3 notifications, blob triggers; see
    ``Event.identity``), so a redelivered event (the at-least-once retry of every trigger) does
    not start a second one."""

    __slots__ = ("flow", "__name__")

    def __init__(self, flow: str) -> None:
        self.flow = flow
        self.__name__ = flow

    def __call__(self, event: Any, ctx: Any) -> str:
        identity = getattr(event, "identity", None)
        key = f"{ctx.function or self.flow}:{identity}" if identity else None
        return str(ctx.start_flow(self.flow, event.to_dict(), key=key))

    def __repr__(self) -> str:
        return f"FlowStarter({self.flow!r})"


# ------------------------------------------------------------------- short spellings


def step(handler: str, *, name: str | None = None, retry: Retry | Seq[Retry] | None = None, catch: Catch | Node | Seq[Catch] | None = None) -> Task:
    return Task(handler, name, retry, catch)


def sequence(*steps: Node, name: str | None = None) -> Sequence:
    return Sequence(steps, name)


def parallel(*branches: Node | Seq[Node], name: str = "parallel", catch: Catch | Node | Seq[Catch] | None = None) -> Parallel:
    return Parallel(branches, name, catch)


def each(items: str, node: Node | Seq[Node], *, concurrency: int = 0, name: str = "map", catch: Catch | Node | Seq[Catch] | None = None) -> Map:
    return Map(items, node, concurrency, name, catch)


def when(path: str, op: str, value: Any, then: Node | Seq[Node]) -> When:
    return When(path, op, value, then)


def choice(*rules: When, otherwise: Node | Seq[Node] | None = None, name: str = "choice") -> Choice:
    return Choice(rules, otherwise, name)


def wait(seconds: float | None = None, *, until: str | None = None, name: str = "wait") -> Wait:
    return Wait(seconds, until, name)
