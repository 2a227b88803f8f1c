"""The local interpreter of a flow: one pass over the tree per wake-up, replaying what is recorded.

Durability by replay (what Durable Functions does with its history): each pass walks the tree
from the root with the run's input. A step whose row says ``succeeded`` is not run again: its
recorded result is used. The first step with no result is run, and its result is committed
(row + log line, one transaction) before the walk moves on. So after ``kill -9`` the next pass
resumes exactly after the last finished step; a step that was running when the process died
runs again (at-least-once, like a Lambda task Step Functions retries), with its attempt
counted.

Nothing blocks a thread while time passes: a wait, or a retry's back-off, records its wake-up
time and raises :class:`Suspend`; the runner (:mod:`corefn.flows.runner`) comes back then. Time
is the runtime's clock (fake in tests: ``corefn run --now … --clock-speed …``).

Errors: a handler's exception becomes :class:`StepFailed` (its class name and the names of its
bases, so ``Retry(errors="SinkError")`` matches a ``SinkThrottledError``), recorded, retried or
caught as declared. :class:`Terminal` errors end the run at once, never retried or caught: a
payload over the limit, data of the wrong shape, the flow's timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from corefn.flows.limits import FlowDataError, FlowPayloadTooLarge, encode
from corefn.flows.spec import ANY_ERROR, Catch, Choice, FlowSpec, Map, Node, Parallel, Sequence, Task, Wait
from corefn.flows.store import RunStore, loads

if TYPE_CHECKING:
    from corefn.app import App


class Suspend(Exception):
    """Come back at ``until`` (runtime clock seconds)."""

    def __init__(self, until: float) -> None:
        self.until = until
        super().__init__(until)


class StepFailed(Exception):
    """A step failed for good (after its retries): ``kind`` is the error's class name, ``names``
    that class and its bases (what catch and retry rules match)."""

    def __init__(self, kind: str, message: str, names: tuple[str, ...]) -> None:
        self.kind = kind
        self.message = message
        self.names = names
        super().__init__(f"{kind}: {message}")

    @classmethod
    def of(cls, error: BaseException) -> StepFailed:
        names = tuple(c.__name__ for c in type(error).__mro__ if c not in (object, BaseException))
        return cls(type(error).__name__, str(error), names)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "message": self.message}

    def to_json(self) -> str:
        import json

        return json.dumps({"type": self.kind, "message": self.message, "names": list(self.names)})

    @classmethod
    def from_json(cls, text: str | None) -> StepFailed:
        data = loads(text) or {}
        return cls(str(data.get("type", "Error")), str(data.get("message", "")), tuple(data.get("names", ())))

    def matches(self, errors: tuple[str, ...]) -> bool:
        return ANY_ERROR in errors or any(name in errors for name in self.names)


class Terminal(Exception):
    """Ends the run as failed (``status``), whatever retry and catch rules say."""

    status = "failed"


class FlowTimedOut(Terminal):
    status = "timed_out"


class StepTimeout(Exception):
    """A step's handler ran past the ``timeout`` it declares (ASL ``States.Timeout``)."""


class EndScope(Exception):
    """A catch without ``resume``: the enclosing sequence ends with ``result``."""

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__("end of scope")


def _child(path: str, part: str) -> str:
    return f"{path}/{part}" if path else part


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_MISSING = object()

#: branches or map items run at once locally when the declaration sets no limit (threads are
#: this machine's resource: a 10,000-item map must not start 10,000 of them)
MAX_THREADS = 32


def lookup(data: Any, path: str) -> Any:
    """The value at dotted ``path`` (``"a.b.0"``; ``""`` is ``data``), or ``_MISSING``."""
    value = data
    for part in path.split(".") if path else ():
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _compare(op: str, found: Any, value: Any) -> bool:
    if op == "exists":
        return (found is not _MISSING) == bool(value)
    if found is _MISSING:
        return False
    try:
        if op == "==":
            return bool(found == value)
        if op == "!=":
            return bool(found != value)
        if op == "in":
            return found in value
        if isinstance(found, bool) or isinstance(value, bool) or type(found) is not type(value) and not (
            isinstance(found, (int, float)) and isinstance(value, (int, float))
        ):
            return False  # ASL compares numbers with numbers, strings with strings
        return bool({"<": found < value, "<=": found <= value, ">": found > value, ">=": found >= value}[op])
    except TypeError:
        return False


class Execution:
    """One pass over one run. ``emit(path, step, event, detail, seconds)`` is told of every log
    line this pass writes (the runner prints them)."""

    def __init__(
        self,
        app: App,
        flow: FlowSpec,
        run: dict[str, Any],
        store: RunStore,
        now: Callable[[], float],
        emit: Callable[[str, str, str, str, float | None], None] | None = None,
    ) -> None:
        self.app = app
        self.flow = flow
        self.run_id = str(run["id"])
        self.input = loads(run["input"])
        self.deadline = float(run["deadline"])
        self.store = store
        self.now = now
        self.emit = emit or (lambda *a: None)

    def run(self) -> Any:
        self._check_deadline()
        try:
            return self.node(self.flow.root, "", self.input)
        except EndScope as end:
            return end.result

    # ---------------------------------------------------------------------------- helpers

    def _check_deadline(self) -> None:
        if self.now() > self.deadline:
            raise FlowTimedOut(f"flow {self.flow.name!r} ran past its {self.flow.timeout:g} s timeout")

    def _record(
        self, path: str, node: Node, status: str, event: str | None = None, detail: str = "", seconds: float | None = None,
        at: float | None = None, **fields: Any,
    ) -> None:
        now = self.now() if at is None else at
        self.store.record(self.run_id, path, node.name, node.kind, status, now, event=event, detail=detail or None, seconds=seconds, **fields)
        if event is not None:
            self.emit(path, node.name, event, detail, seconds)

    def node(self, node: Node, path: str, data: Any) -> Any:
        return _RUNNERS[type(node)](self, node, path, data)

    # ------------------------------------------------------------------------------ kinds

    def sequence(self, node: Sequence, path: str, data: Any) -> Any:
        for index, child in enumerate(node.steps):
            try:
                data = self.node(child, _child(path, str(index)), data)
            except EndScope as end:
                return end.result
        return data

    def task(self, node: Task, path: str, data: Any) -> Any:
        return self._guarded(node, path, data, lambda: self._task(node, path, data))

    def _task(self, node: Task, path: str, data: Any) -> Any:
        row = self.store.step(self.run_id, path)
        if row is not None:
            if row["status"] == "succeeded":
                return loads(row["output"])
            if row["status"] == "failed":
                raise StepFailed.from_json(row["error"])
            if row["status"] == "retrying" and row["wake_at"] > self.now():
                raise Suspend(float(row["wake_at"]))
        self._check_deadline()
        attempt = (row["attempt"] if row else 0) + 1
        self._record(path, node, "running", attempt=attempt)
        started = time.perf_counter()
        try:
            result = self._call(node, path, data, attempt)
        except StepFailed as failure:
            seconds = time.perf_counter() - started
            rule = next((r for r in node.retry if failure.matches(r.errors)), None)
            if rule is not None and attempt < rule.attempts:
                delay = rule.delay(attempt)
                wake = self.now() + delay
                detail = f"attempt {attempt}/{rule.attempts} {failure} -> retry in {delay:g} s"
                self._record(path, node, "retrying", "retry", detail, seconds, error=failure.to_json(), wake_at=wake)
                raise Suspend(wake) from None
            tries = f"attempt {attempt}/{rule.attempts} " if rule is not None else ""
            self._record(path, node, "failed", "failed", f"{tries}{failure}", seconds, error=failure.to_json())
            raise
        seconds = time.perf_counter() - started
        try:
            output = encode(self.flow.name, f"step {node.name!r}'s result", result)
            self._check_deadline()
        except Terminal as stop:
            self._record(path, node, "failed", "failed", str(stop), seconds, error=StepFailed.of(stop).to_json())
            raise
        except (FlowPayloadTooLarge, FlowDataError) as bad:
            self._record(path, node, "failed", "failed", str(bad), seconds, error=StepFailed.of(bad).to_json())
            raise Terminal(str(bad)) from None
        self._record(path, node, "succeeded", "ok", "", seconds, output=output)
        return loads(output)  # what a replay will read: a tuple becomes a list on both paths

    def _call(self, node: Task, path: str, data: Any, attempt: int) -> Any:
        from corefn.context import Context
        from corefn.dispatch import dispatch
        from corefn.events import InvokeEvent

        spec = self.app.handler(node.handler)
        limit = spec.options.timeout
        ctx = Context(cloud="local", app=self.app, deadline=time.time() + limit if limit else None)
        event = InvokeEvent(payload=data, name=node.handler, id=f"{self.run_id}:{path or node.name}:{attempt}")
        started = time.perf_counter()
        outcome = dispatch(self.app, [event], ctx, pinned=node.handler).outcomes[0]
        if outcome.error is not None:
            raise StepFailed.of(outcome.error)
        if limit and time.perf_counter() - started > limit:
            raise StepFailed.of(StepTimeout(f"{node.handler} ran past its {limit:g} s timeout"))
        return outcome.result

    def _guarded(self, node: Task | Parallel | Map, path: str, data: Any, body: Callable[[], Any]) -> Any:
        """Run ``body``; on a failure a catch rule matches, record the decision, then run the
        fallback. A replay finds the decision and goes straight to the fallback: the failed step
        (a branch still waiting for a retry, say) is never run again after it was caught."""
        mark = f"{path}!catch"
        decided = self.store.step(self.run_id, mark)
        if decided is not None:
            recorded = loads(decided["output"])
            return self._fallback(node, path, data, int(recorded["rule"]), recorded["error"])
        try:
            return body()
        except StepFailed as failure:
            for index, rule in enumerate(node.catch):
                if failure.matches(rule.errors):
                    import json

                    detail = f"{failure} -> {rule.then.name}"
                    output = json.dumps({"rule": index, "error": failure.as_dict()})
                    self.store.record(self.run_id, mark, node.name, "catch", "succeeded", self.now(), output=output, event="caught", detail=detail)
                    self.emit(mark, node.name, "caught", detail, None)
                    return self._fallback(node, path, data, index, failure.as_dict())
            raise

    def _fallback(self, node: Task | Parallel | Map, path: str, data: Any, index: int, error: dict[str, Any]) -> Any:
        rule: Catch = node.catch[index]
        given = {"input": data, "error": error}
        try:  # the failed step's input plus the error can pass the limit the input alone did not
            encode(self.flow.name, f"the input of catch {rule.then.name!r}", given)
        except (FlowPayloadTooLarge, FlowDataError) as bad:
            raise Terminal(str(bad)) from None
        result = self.node(rule.then, _child(path, f"catch{index}"), given)
        if rule.resume:
            return result
        raise EndScope(result)

    def choice(self, node: Choice, path: str, data: Any) -> Any:
        row = self.store.step(self.run_id, path)
        if row is not None:
            picked = int(row["output"])
        else:
            picked = next((i for i, rule in enumerate(node.rules) if _compare(rule.op, lookup(data, rule.path), rule.value)), -1)
            if picked < 0 and node.otherwise is None:
                failure = StepFailed("NoChoiceMatched", f"no rule of {node.name!r} matched and it has no otherwise", ("NoChoiceMatched",))
                self._record(path, node, "failed", "failed", str(failure), error=failure.to_json())
                raise failure
            branch = node.rules[picked].then.name if picked >= 0 else node.otherwise.name  # type: ignore[union-attr]
            self._record(path, node, "succeeded", "chose", branch, output=str(picked))
        target = node.rules[picked].then if picked >= 0 else node.otherwise
        return self.node(target, _child(path, "else" if picked < 0 else str(picked)), data)  # type: ignore[arg-type]

    def parallel(self, node: Parallel, path: str, data: Any) -> Any:
        return self._guarded(node, path, data, lambda: self._fan(node, path, [(b, _child(path, str(i)), data) for i, b in enumerate(node.branches)], 0))

    def map(self, node: Map, path: str, data: Any) -> Any:
        def body() -> Any:
            items = lookup(data, node.items)
            if not isinstance(items, list):
                found = "nothing" if items is _MISSING else type(items).__name__
                raise Terminal(f"flow {self.flow.name!r}: map {node.name!r} needs a list at {node.items or 'the input'!r}, found {found}")
            return self._fan(node, path, [(node.node, f"{path}[{i}]", item) for i, item in enumerate(items)], node.concurrency)

        return self._guarded(node, path, data, body)

    def _fan(self, node: Parallel | Map, path: str, jobs: list[tuple[Node, str, Any]], limit: int) -> Any:
        """Run ``jobs`` on threads (at most ``limit`` at once; 0: all), wait for all of them,
        then: the first terminal error, else the first failure, else the earliest suspension,
        else the list of results (recorded as this node's result)."""
        row = self.store.step(self.run_id, path)
        if row is not None and row["status"] == "succeeded":
            return loads(row["output"])
        if not jobs:
            results: list[Any] = []
        else:
            def one(job: tuple[Node, str, Any]) -> Any:
                child, where, value = job
                try:
                    return self.node(child, where, value)
                except EndScope as end:
                    return end.result

            outcomes = run_all([partial(one, job) for job in jobs], limit)
            errors = [value for ok, value in outcomes if not ok]
            for kind in (Terminal, StepFailed):
                first = next((e for e in errors if isinstance(e, kind)), None)
                if first is not None:
                    raise first
            suspends = [e for e in errors if isinstance(e, Suspend)]
            if suspends:
                raise Suspend(min(s.until for s in suspends))
            if errors:
                raise errors[0]
            results = [value for _, value in outcomes]
        try:
            output = encode(self.flow.name, f"step {node.name!r}'s result", results)
        except (FlowPayloadTooLarge, FlowDataError) as bad:
            self._record(path, node, "failed", "failed", str(bad), error=StepFailed.of(bad).to_json())
            raise Terminal(str(bad)) from None
        self._record(path, node, "succeeded", "ok", f"{len(results)} result(s)", output=output)
        return results

    def wait(self, node: Wait, path: str, data: Any) -> Any:
        row = self.store.step(self.run_id, path)
        if row is not None and row["status"] == "succeeded":
            return loads(row["output"])
        self._check_deadline()
        now = self.now()
        if row is None:
            wake = now + node.seconds if node.seconds is not None else self._until(node, data)
            self._record(path, node, "waiting", "waiting", f"until {_iso(wake)}", at=now, wake_at=wake)
        else:
            wake = float(row["wake_at"])
        if now < wake:
            raise Suspend(wake)
        self._record(path, node, "succeeded", "ok", "", output=encode(self.flow.name, f"step {node.name!r}'s result", data))
        return data

    def _until(self, node: Wait, data: Any) -> float:
        from corefn.events.base import parse_time

        found = lookup(data, node.until or "")
        try:
            when = parse_time(found) if isinstance(found, str) else None
        except (ValueError, TypeError):
            when = None
        if when is None:
            shown = "nothing" if found is _MISSING else repr(found)
            raise Terminal(f"flow {self.flow.name!r}: wait {node.name!r} needs an ISO 8601 time at {node.until!r}, found {shown}")
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()


def run_all(calls: list[Callable[[], Any]], limit: int = 0) -> list[tuple[bool, Any]]:
    """Run ``calls`` on daemon threads, at most ``limit`` at once (0: all, up to
    :data:`MAX_THREADS`), and wait for all:
    ``(True, result)`` or ``(False, exception)`` each, in order. Daemon threads, not an executor:
    a step that never returns must not keep the process from exiting on SIGTERM."""
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(calls)
    gate = threading.Semaphore(max(1, min(limit or len(calls), MAX_THREADS)))

    def work(index: int) -> None:
        try:
            outcomes[index] = (True, calls[index]())
        except BaseException as error:  # noqa: BLE001 - handed back to the caller, who re-raises
            outcomes[index] = (False, error)
        finally:
            gate.release()

    threads = []
    for index in range(len(calls)):
        gate.acquire()
        thread = threading.Thread(target=work, args=(index,), name="corefn-flow-branch", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return outcomes


_RUNNERS: dict[type[Node], Callable[[Execution, Any, str, Any], Any]] = {
    Sequence: Execution.sequence,
    Task: Execution.task,
    Choice: Execution.choice,
    Parallel: Execution.parallel,
    Map: Execution.map,
    Wait: Execution.wait,
}
