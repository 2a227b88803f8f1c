"""Scheduled events: EventBridge (CloudWatch Events) rules, and EventBridge Scheduler schedules.

A rule's event carries ``detail-type: "Scheduled Event"``, ``source: "aws.events"`` and the
rule's ARN in ``resources`` (``...:rule/NAME``, or ``rule/BUS/NAME`` on a custom bus): the last
path segment is the name. Neither carries the schedule expression, so ``schedule`` is null.

EventBridge Scheduler (what the generator uses, because only it evaluates cron in a time zone)
sends whatever ``Input`` the schedule defines; the generated schedules send the same envelope
with ``source: "aws.scheduler"``, the schedule ARN, the scheduled time, and the declared
5-field cron and time zone in ``detail`` (``schedule``, ``tz``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.dispatch import DispatchResult
from corefn.events import Event, TimerEvent
from corefn.payload import Reader
from corefn_aws._common import PROVIDER, raise_if_failed

SOURCES = ("aws.events", "aws.scheduler")


class ScheduledEvent:
    name: ClassVar[str] = "eventbridge-schedule"
    kind: ClassVar[str] = "timer"
    _r: ClassVar[Reader] = Reader(PROVIDER, "eventbridge-schedule")

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and raw.get("detail-type") == "Scheduled Event" and raw.get("source") in SOURCES

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        r, raw = self._r, self.raw
        resources = r.get(raw, "resources", list, default=[])
        name = None
        if resources:
            arn = resources[0]
            if not isinstance(arn, str):
                raise r.error("resources[0]", "should be a string")
            name = arn.rsplit("/", 1)[-1] if "/" in arn else None
        schedule = None
        if raw.get("source") == "aws.scheduler":
            schedule = r.get(raw, "detail.schedule", str, default=None)
        return [TimerEvent(time=r.time(raw, "time"), schedule=schedule, name=name, id=r.opt_str(raw, "id"), raw=raw)]

    def to_response(self, result: DispatchResult) -> Any:
        raise_if_failed(result)
        return None
