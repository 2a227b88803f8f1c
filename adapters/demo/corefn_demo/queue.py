"""``{"demo": "queue", "queue": ..., "messages": [{"mid", "text", "tries"}]}``: a batch of queue
messages. The demo provider redelivers the messages whose ids the answer lists under
``failed`` (a partial batch failure, as Lambda's ``batchItemFailures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from corefn.events import Body, Event, QueueMessage
from corefn.kit import Failure, PayloadShape

if TYPE_CHECKING:
    from corefn.dispatch import DispatchResult

PROVIDER = "demo"


class DemoQueue(PayloadShape):
    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "demo-queue"
    kind: ClassVar[str] = "queue"
    failure: ClassVar[Failure] = Failure.PARTIAL

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("demo") == "queue"

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
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
