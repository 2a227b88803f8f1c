"""Scheduled ticks. ``time`` is when the provider fired (UTC); ``past_due`` is true when the
tick is late because the host was down (Azure's ``past_due``, the local runtime's missed ticks)."""

from __future__ import annotations

from datetime import datetime

from corefn._record import _set
from corefn.events.base import Event, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class TimerEvent(Event):
    __slots__ = ("time", "schedule", "name", "past_due")
    kind: ClassVar[str] = "timer"
    time: datetime | None
    schedule: str | None
    name: str | None
    past_due: bool | None

    def __init__(
        self,
        *,
        time: datetime | None = None,
        schedule: str | None = None,
        name: str | None = None,
        past_due: bool | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "time", time)
        _set(self, "schedule", schedule)
        _set(self, "name", name)
        _set(self, "past_due", past_due)
        _set(self, "id", id)
        _set(self, "raw", raw)

    @property
    def identity(self) -> str | None:
        """The id, else the timer and its scheduled time: one tick is one event."""
        if self.id is not None:
            return self.id
        return None if self.time is None else f"{self.name}@{format_time(self.time)}"

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
