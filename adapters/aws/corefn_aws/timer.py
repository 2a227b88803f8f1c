"""Scheduled events: EventBridge (CloudWatch Events) rules, and EventBridge Scheduler schedules.

A rule's event carries ``detail-type: "Scheduled Event"``, ``source: "aws.events"`` and the
rule's ARN in ``resources`` (``...:rule/NAME``, or ``rule/BUS/NAME`` on a custom bus): the last
path segment is the name. Neither carries the schedule expression, so ``schedule`` is null.

EventBridge Scheduler (what the generator uses, because only it evaluates cron in a time zone)
sends whatever ``Input`` the schedule defines; the generated schedules send the same envelope
with ``source: "aws.scheduler"``, the schedule ARN, the scheduled time, and the declared
5-field cron and time zone in ``detail`` (``schedule``, ``tz``). Schedules made outside
corefn may send ``detail`` as a JSON *string*, ``"{}"`` (the Scheduler event in AWS Powertools'
test events does), where EventBridge rules carry an object. Both are the same tick: a string is
parsed as JSON and read like the object.
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Event, TimerEvent
from corefn.kit import Failure, PayloadShape
from corefn_aws._common import PROVIDER, raise_if_failed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

SOURCES = ("aws.events", "aws.scheduler")


def _loads(text: str) -> Any:
    """json, imported only for the string ``detail`` of a hand-made schedule (cold start)."""
    import json

    return json.loads(text)


class ScheduledEvent(PayloadShape):
    """An asynchronous invocation: Lambda learns of a failure only from an exception."""

    provider: ClassVar[str] = PROVIDER
    name: ClassVar[str] = "eventbridge-schedule"
    kind: ClassVar[str] = "timer"
    failure: ClassVar[Failure] = Failure.RAISE

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("detail-type") == "Scheduled Event" and raw.get("source") in SOURCES

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        resources = r.get(raw, "resources", list, default=[])
        name = None
        if resources:
            arn = resources[0]
            if not isinstance(arn, str):
                raise r.error("resources[0]", "should be a string")
            name = arn.rsplit("/", 1)[-1] if "/" in arn else None
        schedule = None
        if raw.get("source") == "aws.scheduler":
            schedule = r.get(self._detail(), "schedule", str, default=None, at="detail")
        return [TimerEvent(time=r.time(raw, "time"), schedule=schedule, name=name, id=r.opt_str(raw, "id"), raw=raw)]

    def _detail(self) -> dict[str, Any]:
        """``detail`` as an object, whichever way Scheduler sent it."""
        r, detail = self.reader, self.raw.get("detail")
        if isinstance(detail, str):
            detail = r.convert(detail, _loads, "detail", "JSON")
        if detail is None:
            return {}
        if not isinstance(detail, dict):
            raise r.error("detail", f"should be an object or a JSON object in a string, got {type(detail).__name__}")
        return detail

    def to_response(self, result: DispatchResult) -> Any:
        raise_if_failed(result)
        return None
