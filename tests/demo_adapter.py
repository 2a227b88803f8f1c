"""A small in-tree adapter for an imaginary provider, "demo", whose payloads say what they are:
``{"demo": "http", "verb": ..., "url": ..., "hdrs": {...}, "content": ...}`` and
``{"demo": "queue", "queue": ..., "messages": [{"mid": ..., "text": ..., "tries": n}]}``.

It exists to prove the adapter interface and the test harness with no cloud involved, and shows a
newcomer the least an adapter needs: a name, ordered shapes (``BaseAdapter`` gives the optional
members their defaults), and nothing in ``corefn/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from corefn.adapters import BaseAdapter, WarmupShape
from corefn.app import App
from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, HttpRequest, QueueMessage
from corefn.events.base import Headers, Query, decode_path
from corefn.payload import Reader


class DemoHttp:
    name: ClassVar[str] = "demo-http"
    kind: ClassVar[str] = "http"
    _r = Reader("demo", name)

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("demo") == "http"

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        r, raw = self._r, self.raw
        path, _, query = r.str(raw, "url").partition("?")
        return [
            HttpRequest(
                method=r.str(raw, "verb").upper(),
                path=decode_path(path),
                headers=Headers(r.opt_dict(raw, "hdrs")),
                query=Query(query),
                body=Body(r.opt_str(raw, "content")),
                raw=raw,
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        response = result.response
        assert response is not None
        return {"code": response.status, "hdrs": dict(response.headers), "content": response.body.decode()}


class DemoQueue:
    name: ClassVar[str] = "demo-queue"
    kind: ClassVar[str] = "queue"
    _r = Reader("demo", name)

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("demo") == "queue"

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        r, raw = self._r, self.raw
        queue = r.str(raw, "queue")
        events: list[Event] = []
        for i, message in enumerate(r.list(raw, "messages")):
            at = f"messages[{i}]"
            if not isinstance(message, dict):
                raise r.error(at, "should be an object")
            events.append(
                QueueMessage(
                    queue=queue,
                    id=r.str(message, "mid", at=at),
                    body=Body(r.str(message, "text", at=at)),
                    attempt=r.opt_int(message, "tries", at=at),
                    raw=message,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> Any:
        return {"failed": [o.event.id for o in result.failed]}


class DemoAdapter(BaseAdapter):
    name = "demo"
    shapes = (WarmupShape, DemoHttp, DemoQueue)

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        lines = [f"# demo deployment of {app.name} ({app_ref})"]
        lines += [f"{spec.name}: {spec.kind} {spec.resource or ''}".rstrip() for spec in app.handlers]
        return {"demo.txt": "\n".join(lines) + "\n"}


adapter = DemoAdapter()
