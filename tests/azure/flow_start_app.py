"""A flow started by a Queue Storage trigger, whose messages carry ids (the run key): the app of
the durable client tests in tests/azure/test_flow_deploy.py."""

from __future__ import annotations

from typing import Any

from corefn import App, InvokeEvent
from corefn.flows import step

app = App("azure-flow-start")


@app.invoke()
def work(event: InvokeEvent) -> Any:
    return {"done": event.payload.get("body")}


job = app.flow("job", [step("work")])
app.queue("jobs")(job)
