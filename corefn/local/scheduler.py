"""Timers: 5-field cron expressions evaluated in the handler's IANA time zone.

Cloud schedules run in UTC unless told otherwise (EventBridge rules' cron expressions always:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html; Azure's
NCRONTAB without ``WEBSITE_TIME_ZONE``; Cloud Scheduler without ``--time-zone``), so
``0 9 * * *`` means 09:00 UTC (18:00 in Seoul) unless the declaration says
``tz="Asia/Seoul"``. We evaluate the expression in the declared zone (``cronsim`` with
``zoneinfo``, DST-aware) and show the next fire time both in that zone and in UTC when the
runtime starts.

A tick's last-fired time is persisted with its delivery in one transaction. A tick missed while
the runtime was down is delivered **once** with ``past_due=True`` (Azure's rule), however many
ticks were missed, and never twice: the next start finds it recorded.

Tests and demos need time to pass faster than it does: ``COREFN_LOCAL_NOW`` (ISO 8601) starts the
runtime's clock at that instant and ``COREFN_LOCAL_CLOCK_SPEED`` makes it run that many times
faster (``corefn run --now ... --clock-speed ...``, hidden options). Only timers use this clock.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from corefn.events.base import parse_time
from corefn.local.deliveries import timer_row
from corefn.local.store import NewDelivery, Store, insert_rows

if TYPE_CHECKING:
    from corefn.local.console import Console
    from corefn.specs import HandlerSpec

#: a live tick fired more than this many real seconds late counts as past due
LATE_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class Clock:
    """Wall-clock UTC, optionally started at another instant and running faster."""

    start: float | None = None
    speed: float = 1.0
    _origin: float = field(default_factory=time.monotonic)

    @classmethod
    def from_env(cls) -> Clock:
        text = os.environ.get("COREFN_LOCAL_NOW")
        start = parse_time(text).timestamp() if text else None  # type: ignore[union-attr]
        return cls(start, float(os.environ.get("COREFN_LOCAL_CLOCK_SPEED") or 1.0))

    def now(self) -> float:
        if self.start is None:
            return time.time() if self.speed == 1.0 else self._fake(time.time())
        return self._fake(self.start)

    def _fake(self, start: float) -> float:
        return start + (time.monotonic() - self._origin) * self.speed

    def real_seconds(self, clock_seconds: float) -> float:
        return clock_seconds / self.speed


def last_fired(store: Store, handler: str, schedule: str, tz: str) -> float | None:
    """When ``handler``'s timer last fired, or ``None`` if never (or its schedule changed)."""
    row = store.connect().execute("SELECT schedule, tz, last_tick FROM timers WHERE handler=?", (handler,)).fetchone()
    if row is None or (row[0], row[1]) != (schedule, tz):
        return None
    return float(row[2])


def record_tick(store: Store, handler: str, schedule: str, tz: str, tick: float, delivery: NewDelivery | None) -> None:
    """Record ``tick`` as fired and enqueue its delivery in one transaction, so a tick is neither
    lost nor run twice across a crash."""
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO timers (handler, schedule, tz, last_tick) VALUES (?,?,?,?)", (handler, schedule, tz, tick))
        if delivery is not None:
            insert_rows(db, [delivery])


def ticks_after(schedule: str, tz: str, after: float) -> object:
    """An iterator of fire times (aware datetimes in ``tz``) strictly after epoch ``after``."""
    from cronsim import CronSim

    zone: tzinfo = ZoneInfo(tz)
    return CronSim(schedule, datetime.fromtimestamp(after, zone))


def next_tick(schedule: str, tz: str, after: float) -> datetime:
    return next(ticks_after(schedule, tz, after))  # type: ignore[call-overload, no-any-return]


def last_tick_between(schedule: str, tz: str, after: float, until: float) -> tuple[datetime | None, int]:
    """The latest fire time in ``(after, until]`` and how many fell there (counted up to 1000)."""
    latest, count = None, 0
    for tick in ticks_after(schedule, tz, after):  # type: ignore[attr-defined]
        if tick.timestamp() > until or count >= 1000:
            break
        latest, count = tick, count + 1
    if count >= 1000:  # a long outage of a frequent timer: find the latest one directly
        from cronsim import CronSim

        latest = next(CronSim(schedule, datetime.fromtimestamp(until + 1e-3, ZoneInfo(tz)), reverse=True))
    return latest, count


class Scheduler:
    """One thread firing every timer handler of the app."""

    def __init__(self, specs: list[HandlerSpec], store: Store, console: Console, clock: Clock, wake: dict[str, threading.Event]) -> None:
        self.specs = specs
        self.store = store
        self.console = console
        self.clock = clock
        self.wake = wake
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @staticmethod
    def describe(spec: HandlerSpec, now: float) -> str:
        """``*/5 * * * * Asia/Seoul, next 2026-11-26 01:05 KST (2026-11-25 16:05 UTC)``."""
        schedule, tz = spec.trigger.schedule, spec.trigger.tz  # type: ignore[attr-defined]
        tick = next_tick(schedule, tz, now)
        utc = tick.astimezone(UTC)
        here = f"{tick:%Y-%m-%d %H:%M} {tick.tzname()}"
        return f"{schedule} ({tz}), next {here}" + ("" if tz == "UTC" else f" = {utc:%Y-%m-%d %H:%M} UTC")

    def catch_up(self) -> None:
        """At start: deliver one past-due tick for every timer that missed ticks while down."""
        now = self.clock.now()
        for spec in self.specs:
            schedule, tz = spec.trigger.schedule, spec.trigger.tz  # type: ignore[attr-defined]
            last = last_fired(self.store, spec.name, schedule, tz)
            if last is None:  # first run of this timer: it starts counting now
                record_tick(self.store, spec.name, schedule, tz, now, None)
                continue
            latest, missed = last_tick_between(schedule, tz, last, now)
            if latest is not None:
                self.console.line(f"timer {spec.name}: {missed} tick(s) missed while down; delivering the latest once, past due")
                self._fire(spec, latest, past_due=True)

    def _fire(self, spec: HandlerSpec, tick: datetime, past_due: bool) -> None:
        schedule, tz = spec.trigger.schedule, spec.trigger.tz  # type: ignore[attr-defined]
        record_tick(self.store, spec.name, schedule, tz, tick.timestamp(), timer_row(spec.name, tick, schedule, tz, past_due))
        event = self.wake.get(spec.name)
        if event is not None:
            event.set()

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="corefn-timers", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            now = self.clock.now()
            soonest: float | None = None
            for spec in self.specs:
                schedule, tz = spec.trigger.schedule, spec.trigger.tz  # type: ignore[attr-defined]
                last = last_fired(self.store, spec.name, schedule, tz)
                if last is None:
                    last = now
                    record_tick(self.store, spec.name, schedule, tz, now, None)
                latest, count = last_tick_between(schedule, tz, last, now)
                if latest is not None:
                    late = self.clock.real_seconds(now - latest.timestamp())
                    self._fire(spec, latest, past_due=count > 1 or late > LATE_AFTER)
                    last = latest.timestamp()
                due = next_tick(schedule, tz, last).timestamp()
                soonest = due if soonest is None else min(soonest, due)
            wait = 1.0 if soonest is None else self.clock.real_seconds(soonest - self.clock.now())
            self.stop.wait(min(1.0, max(0.001, wait)))
