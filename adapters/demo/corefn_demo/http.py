"""``{"demo": "http", "verb": ..., "url": ..., "hdrs": {...}, "content": ...}``: an HTTP request;
the answer is ``{"code", "hdrs", "content"}`` (a failed handler is the 500 dispatch wrote)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events import Body, Event, HttpRequest
from corefn.events.base import Headers, Query, decode_path
from corefn.kit import Failure, PayloadShape

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult

PROVIDER = "demo"


class DemoHttp(PayloadShape):
    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "demo-http"
    kind: ClassVar[str] = "http"
    failure: ClassVar[Failure] = Failure.RESULT

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("demo") == "http"

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
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
        if response is None:
            raise RuntimeError("an HTTP delivery produced no response")
        return {"code": response.status, "hdrs": dict(response.headers), "content": response.body.decode()}
