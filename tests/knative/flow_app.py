"""An app with a flow for the Knative flow-engine tests: a queue message starts it; it doubles,
waits a minute, and adds one, retrying a flaky step."""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.flows import Retry, sequence, step, wait

app = App("kn-flows")
app.table("flow-state", key="pk", sort_key="sk", flow_state=True)
FLAKY: list[int] = []


@app.invoke()
def double(event: Any) -> Any:
    return {"n": event.payload["n"] * 2}


@app.invoke()
def add_one(event: Any) -> Any:
    if FLAKY:
        FLAKY.pop()
        raise RuntimeError("flaky")
    return {"n": event.payload["n"] + 1}


pipeline = app.flow(
    "pipeline",
    sequence(step("double"), wait(60), step("add_one", retry=Retry(attempts=3, backoff=1))),
    timeout=3600,
)
app.queue("jobs")(pipeline)
