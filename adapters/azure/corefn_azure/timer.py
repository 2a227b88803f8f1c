"""Timer ticks: the ``TimerInfo`` JSON the host hands the worker, and ``func.TimerRequest``.

``TimerInfo`` is ``{"Schedule": {...}, "ScheduleStatus": {"Last", "Next", "LastUpdated"},
"IsPastDue": bool}``. Its names are the scheduler's, not the invocation's: the host waits until
``ScheduleStatus.Next`` and then invokes, so during the invocation ``Next`` is *this* occurrence and
``Last`` the previous one (Azure Functions team, on TimerInfo.ScheduleStatus). ``time`` is
therefore ``Next`` in UTC, or ``null`` when the status is absent (``use_monitor=False``).
``IsPastDue`` becomes ``past_due``. The payload names neither the schedule nor the function: the
generated function app fills both from the declaration.
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.events import Event, TimerEvent
from corefn.payload import Reader
from corefn_azure._common import (
    EventShape,
    binding_object,
    decode_json_text,
)
from corefn_azure._envelope import HostShape, envelope_parts, host_parts

TIMER_KEYS = frozenset({"Schedule", "ScheduleStatus", "IsPastDue"})


def is_timer_info(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= TIMER_KEYS and ("IsPastDue" in value or "ScheduleStatus" in value)


def timer_event(reader: Reader, info: Any, at: str, raw: Any) -> TimerEvent:
    if not isinstance(info, dict):
        raise reader.error(at or "$", "should be a TimerInfo object")
    status = reader.opt_dict(info, "ScheduleStatus", at=at)
    past_due = reader.get(info, "IsPastDue", bool, default=None, at=at)
    where = f"{at}.ScheduleStatus" if at else "ScheduleStatus"
    return TimerEvent(time=reader.time(status, "Next", at=where), past_due=past_due, raw=raw)


class TimerInfoJson(EventShape):
    """The bare ``TimerInfo`` JSON (what the host sends the Python worker for a timer trigger)."""

    name: ClassVar[str] = "timer-info"
    kind: ClassVar[str] = "timer"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_timer_info(raw)

    def to_events(self) -> list[Event]:
        return [timer_event(self.reader, self.raw, "", self.raw)]


class HostTimer(HostShape):
    """Host envelope whose trigger value is a ``TimerInfo`` (as an object or as JSON text)."""

    name: ClassVar[str] = "host-timer"
    kind: ClassVar[str] = "timer"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and is_timer_info(decode_json_text(parts[0]))

    def to_events(self) -> list[Event]:
        value, _ = host_parts(self.reader, self.raw)
        return [timer_event(self.reader, decode_json_text(value), "Data", self.raw)]


class TimerRequestObject(EventShape):
    """``func.TimerRequest`` from ``@app.timer_trigger``. A failed timer run is not retried by
    Azure; raising marks the invocation failed."""

    name: ClassVar[str] = "timer-request"
    kind: ClassVar[str] = "timer"
    binding: ClassVar[str] = "TimerRequest"

    def to_events(self) -> list[Event]:
        timer = binding_object(self.reader, self.raw, self.binding)
        status = timer.schedule_status
        if status is not None and not isinstance(status, dict):
            raise self.reader.error("schedule_status", f"should be a dict, got {type(status).__name__}")
        info = {"ScheduleStatus": status or {}, "IsPastDue": timer.past_due}
        return [timer_event(self.reader, info, "", timer)]
