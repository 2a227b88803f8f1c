"""The app the flow tests run under ``corefn run``: small invoke handlers that record every start
(``$COREFN_TEST_OUT/<handler>.jsonl``: the event id is ``run:step address:attempt``) and a hook
to hold a step forever (``COREFN_TEST_BLOCK=<step address>``: it writes ``blocked`` and sleeps)
so a test can kill -9 the runtime at a known step boundary."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from corefn import App, Context, InvokeEvent, StorageEvent
from corefn.flows import Catch, Retry, choice, each, parallel, step, wait, when

app = App("flow-tests")
OUT = Path(os.environ.get("COREFN_TEST_OUT", "."))
_lock = threading.Lock()
_running = {"now": 0, "max": 0}


def started(name: str, event: InvokeEvent) -> None:
    with _lock, open(OUT / f"{name}.jsonl", "a") as f:
        f.write(json.dumps({"id": event.id, "payload": event.payload}) + "\n")
    if os.environ.get("COREFN_TEST_BLOCK") == str(event.id).split(":")[1]:
        (OUT / "blocked").write_text(str(event.id))
        while True:
            time.sleep(1)


@app.invoke()
def add(event: InvokeEvent) -> dict[str, Any]:
    started("add", event)
    return {"n": event.payload["n"] + 1}


@app.invoke()
def double(event: InvokeEvent) -> dict[str, Any]:
    started("double", event)
    return {"n": event.payload["n"] * 2}


@app.invoke()
def finish(event: InvokeEvent) -> dict[str, Any]:
    started("finish", event)
    payload = event.payload if isinstance(event.payload, dict) else {}
    return {"n": payload.get("n"), "done": True}


class Flaky(Exception):
    pass


@app.invoke()
def flaky(event: InvokeEvent) -> dict[str, Any]:
    """Fails the first ``fails`` times it is called for one run (counted in its record file)."""
    started("flaky", event)
    run = str(event.id).split(":")[0]
    calls = sum(1 for line in (OUT / "flaky.jsonl").read_text().splitlines() if json.loads(line)["id"].startswith(run))
    if calls <= event.payload.get("fails", 0):
        raise Flaky(f"call {calls} fails")
    return {"calls": calls}


@app.invoke()
def broken(event: InvokeEvent) -> Any:
    started("broken", event)
    raise ValueError("broken on purpose")


@app.invoke()
def fallback(event: InvokeEvent) -> dict[str, Any]:
    started("fallback", event)
    return {"fallback": event.payload["error"], "input": event.payload["input"]}


@app.invoke()
def big(event: InvokeEvent) -> str:
    started("big", event)
    return "x" * int(event.payload["size"])


@app.invoke(timeout=0.1)
def sluggish(event: InvokeEvent) -> str:
    time.sleep(0.3)
    return "late"


@app.invoke()
def raw(event: InvokeEvent) -> bytes:
    return b"not JSON"


@app.invoke()
def square(event: InvokeEvent) -> int:
    started("square", event)
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    time.sleep(0.05)
    with _lock:
        _running["now"] -= 1
    return int(event.payload) ** 2


@app.invoke()
def peak(event: InvokeEvent) -> dict[str, Any]:
    """How many squares ran at once, at most."""
    return {"squares": event.payload, "peak": _running["max"]}


@app.invoke()
def pair(event: InvokeEvent) -> tuple[int, dict[int, str]]:
    return (1, {2: "two"})


@app.invoke()
def types(event: InvokeEvent) -> list[str]:
    """The Python types this step received (what JSON made of the previous result)."""
    first, second = event.payload
    return [type(event.payload).__name__, *(type(k).__name__ for k in second)]


@app.invoke()
def label(event: InvokeEvent) -> str:
    started("label", event)
    payload = event.payload if isinstance(event.payload, dict) else {}
    return f"label:{payload.get('kind')}"


@app.invoke()
def slow(event: InvokeEvent) -> dict[str, Any]:
    started("slow", event)
    time.sleep(float(event.payload.get("sleep", 0)))
    return event.payload


app.flow("chain", [step("add", name="first"), step("double"), step("add", name="third"), step("finish")])

app.flow(
    "retrying",
    [step("flaky", retry=Retry(Flaky, attempts=3, backoff=0.05)), step("finish", name="after")],
)

app.flow(
    "caught",
    [
        step("broken", retry=[Retry("Flaky", attempts=5), Retry("ValueError", attempts=2, backoff=0.05)], catch=Catch(step("fallback"), errors="ValueError")),
        step("finish", name="never"),
    ],
)
app.flow("resumed", [step("broken", catch=Catch(step("fallback", name="fb"), resume=True)), step("label")])
app.flow("uncaught-big", step("broken", catch=Catch(step("fallback"))))
app.flow("uncaught", [step("broken", catch=Catch(step("fallback"), errors="KeyError")), step("finish")])

app.flow(
    "branching",
    choice(
        when("kind", "==", "a", step("label", name="label-a")),
        when("size", ">", 10, step("label", name="label-big")),
        otherwise=step("label", name="label-other"),
    ),
)
app.flow("strict-choice", choice(when("kind", "==", "a", step("label"))))

app.flow("fan", [parallel(step("add"), step("double"), [step("add", name="add2"), step("double", name="double2")])])
app.flow("mapped", [each("items", step("square"), concurrency=2), step("peak")])

app.flow("waiting", [step("add"), wait(3600, name="an-hour"), step("finish")], timeout=7200)
app.flow("waiting-until", [wait(until="at"), step("label")], timeout=7200)

app.flow("patient", [step("flaky", retry=Retry(Flaky, attempts=3, backoff=0.5)), wait(0.5, name="nap"), step("finish")])

app.flow(
    "caught-then-wait",
    [
        parallel(
            step("broken"), step("flaky", retry=Retry(Flaky, attempts=5, backoff=0.1)),
            name="both", catch=Catch(step("fallback"), resume=True),
        ),
        wait(0.5, name="pause"),
        step("finish"),
    ],
)

app.flow("as-json", [step("pair"), step("types")])

app.flow("too-big", [step("big"), step("finish")])
app.flow("too-slow", step("sluggish", catch=Catch(step("fallback"), errors="StepTimeout")))
app.flow("not-json", [step("raw", retry=Retry(attempts=3), catch=Catch(step("fallback"))), step("finish")])
app.flow("short", [step("slow"), wait(60), step("finish")], timeout=30)

inbox = app.object_store("inbox")
requests = app.object_store("requests")
app.storage("inbox")(app.flow("on-upload", [step("label", name="label-upload")]))


@app.storage("requests")
def request(event: StorageEvent, ctx: Context) -> str:
    """Starts a chain run per uploaded number (keyed by the object: a redelivery starts none)."""
    return ctx.start_flow("chain", {"n": int(requests.get(event.key).decode())}, key=event.key)
