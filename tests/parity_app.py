"""The app the parity test delivers every fixture to: one recording handler per trigger kind,
each declared so that any fixture of its kind reaches it once pinned (a catch-all route, every
storage operation)."""

from __future__ import annotations

from typing import Any

from corefn import App

app = App("parity")
RECEIVED: list[tuple[str, Any]] = []


def _recorder(name: str) -> Any:
    def record(event: Any) -> None:
        RECEIVED.append((name, event))

    record.__name__ = name
    return record


#: event kind → the handler that receives it
HANDLERS = {
    "http": "web",
    "queue": "jobs",
    "topic": "alerts",
    "storage": "files",
    "stream": "readings",
    "nosql": "changes",
    "timer": "tick",
}

app.http("*", "/{path+}", name="web")(_recorder("web"))
app.http("*", "/", name="web-root")(_recorder("web"))
app.queue("jobs", name="jobs")(_recorder("jobs"))
app.topic("alerts", name="alerts")(_recorder("alerts"))
app.storage("files", on="*", name="files")(_recorder("files"))
app.stream("telemetry", name="readings")(_recorder("readings"))
app.nosql("items", name="changes")(_recorder("changes"))
app.timer("*/5 * * * *", name="tick")(_recorder("tick"))
