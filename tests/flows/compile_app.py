"""One flow per construct, for the compilers' golden files, their validators and the Durable
replay test. Handlers are pure and in-process (the replay test runs them as activities); the
``flaky`` one fails while ``FAILS[key]`` says so, counting down."""

from __future__ import annotations

from typing import Any

from corefn import App, InvokeEvent
from corefn.flows import Catch, Retry, choice, each, parallel, sequence, step, wait, when

app = App("compile-cases")
FAILS: dict[str, int] = {}
CALLS: list[tuple[str, Any]] = []


class Trouble(Exception):
    """A base class: rules name it, handlers raise subclasses."""


class Broken(Trouble):
    pass


class Throttled(Trouble):
    pass


def _seen(name: str, event: InvokeEvent) -> Any:
    CALLS.append((name, event.payload))
    return event.payload


@app.invoke()
def add(event: InvokeEvent) -> dict[str, Any]:
    data = _seen("add", event)
    return {**data, "n": data["n"] + 1}


@app.invoke()
def double(event: InvokeEvent) -> Any:
    data = _seen("double", event)
    return data * 2 if isinstance(data, int) else {**data, "n": data["n"] * 2}


@app.invoke()
def echo(event: InvokeEvent) -> Any:
    return _seen("echo", event)


@app.invoke()
def boom(event: InvokeEvent) -> Any:
    _seen("boom", event)
    raise Broken("boom on purpose")


@app.invoke()
def flaky(event: InvokeEvent) -> dict[str, Any]:
    data = _seen("flaky", event)
    key = str(data.get("key", ""))
    if FAILS.get(key, 0) > 0:
        FAILS[key] -= 1
        raise Throttled(f"{FAILS[key] + 1} more failure(s) to go")
    return {**data, "ok": True}


@app.invoke(timeout=30)
def fallback(event: InvokeEvent) -> dict[str, Any]:
    data = _seen("fallback", event)
    return {"recovered": data["error"]["type"], "from": data["input"]}


@app.invoke()
def total(event: InvokeEvent) -> dict[str, Any]:
    data = _seen("total", event)
    return {"n": sum(item["n"] if isinstance(item, dict) else item for item in data)}


CASES = {
    "task": step("add"),
    "sequence": sequence(step("add", name="first"), step("double"), step("add", name="third")),
    "retry": step("flaky", retry=[Retry(Trouble, attempts=3, backoff=0.5, rate=1.5, max_delay=10), Retry("*", attempts=2, backoff=2)]),
    "retry-any": step("flaky", retry=Retry(attempts=3, backoff=1)),
    "catch": sequence(
        step("boom", catch=Catch(step("fallback"), errors="Trouble")),
        step("add", name="skipped"),
    ),
    "catch-resume": sequence(
        step("boom", catch=Catch(step("fallback"), errors=Trouble, resume=True)),
        step("echo", name="after"),
    ),
    "choice": choice(
        when("n", ">", 10, step("double")),
        when("kind", "in", ["a", "b"], sequence(step("add", name="add-one"), step("add", name="add-two"))),
        when("flag", "exists", True, step("echo", name="flagged")),
        otherwise=step("add", name="small"),
    ),
    "parallel": sequence(
        parallel(step("add", name="left"), sequence(step("double", name="right"), step("add", name="right-more")), name="both"),
        step("total"),
    ),
    "parallel-catch": sequence(
        step("boom", name="first-boom", catch=Catch(step("fallback", name="first-fallback"), resume=True)),
        parallel(
            step("boom", name="branch-boom", catch=Catch(step("fallback", name="branch-fallback"), resume=True)),
            step("echo", name="branch-echo"),
            name="guarded-branches",
        ),
    ),
    "map": sequence(each("items", step("double", name="each-double"), concurrency=2, name="items"), step("total", name="sum")),
    "wait": sequence(wait(5, name="pause"), wait(until="at", name="until"), step("echo", name="woke")),
}

for case, root in CASES.items():
    app.flow(case, root if isinstance(root, list) else [root], timeout=600)
