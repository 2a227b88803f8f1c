"""Scheduled ticks. ``time`` is when the provider fired (UTC); ``past_due`` is true when the
tick is late because the host was down (Azure's ``past_due``, the local runtime's missed ticks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from corefn.events.base import Event, format_time


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerEvent(Event):
    kind: ClassVar[str] = "timer"
    time: datetime | None = None
    schedule: str | None = None
    name: str | None = None
    past_due: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "timer",
            "time": format_time(self.time),
            "schedule": self.schedule,
            "name": self.name,
        }
        if self.past_due is not None:
            out["past_due"] = self.past_due
        if self.id is not None:
            out["id"] = self.id
        return out
