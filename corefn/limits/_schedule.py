"""What a 5-field cron schedule does over time: its shortest gap, and whether a daylight-saving
change moves it.

Both answers come from enumerating fire times with ``cronsim`` (the engine the local runtime's
scheduler uses), not from reading the fields: ``*/7`` minutes has a 4-minute gap at the top of the
hour, and ``0 9 * * *`` in Europe/Berlin fires at 08:00 UTC in winter and 07:00 UTC in summer, which
a target that runs schedules in UTC (Azure Functions on the Consumption and Flex plans) cannot do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

#: fire times the gap analysis reads (ten days of 5-minute ticks, eight years of daily ones)
GAP_SAMPLE = 3000
#: fire times the DST comparison reads per offset (its window is at most 35 days)
SAMPLE = 4000


def _ticks(schedule: str, start: datetime) -> Iterator[datetime]:
    from cronsim import CronSim

    return iter(CronSim(schedule, start))


@lru_cache(maxsize=256)
def shortest_gap(schedule: str, tz: str = "UTC", start: datetime | None = None) -> float:
    """The shortest time in seconds between two consecutive runs over the next ``GAP_SAMPLE`` runs
    (cached: the limits check asks it for the same schedule on every cloud)."""
    zone: tzinfo = ZoneInfo(tz)
    begin = (start or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(zone)
    ticks = _ticks(schedule, begin)
    previous = next(ticks)
    gap = float("inf")
    for _ in range(GAP_SAMPLE):
        try:
            tick = next(ticks)
        except StopIteration:  # pragma: no cover - cronsim iterates forever for valid expressions
            break
        gap = min(gap, tick.timestamp() - previous.timestamp())  # real seconds, across DST too
        previous = tick
    return gap


def dst_offsets(tz: str, year: int) -> tuple[timedelta, timedelta] | None:
    """(standard offset, summer offset) of ``tz`` in ``year``, or None when it keeps one offset."""
    zone = ZoneInfo(tz)
    seen = sorted({datetime(year, month, 1, 12, tzinfo=zone).utcoffset() or timedelta(0) for month in range(1, 13)})
    return (seen[0], seen[-1]) if len(seen) > 1 else None


def transitions(tz: str, start: date, days: int = 365) -> list[datetime]:
    """The local days in the ``days`` after ``start`` on which ``tz`` changes its UTC offset
    (found day by day at noon, so the change itself is never straddled)."""
    zone = ZoneInfo(tz)
    found = []
    day = datetime(start.year, start.month, start.day, 12, tzinfo=zone)
    previous = day.utcoffset()
    for _ in range(days):
        day += timedelta(days=1)
        offset = day.utcoffset()
        if offset != previous:
            found.append(day.replace(hour=0))
        previous = offset
    return found


def _utc_runs(schedule: str, offset: timedelta, start: datetime, until: datetime) -> tuple[set[datetime], datetime]:
    """The UTC instants ``schedule`` fires at in the fixed ``offset`` from ``start`` until ``until``
    or the ``SAMPLE``-th run, and the instant the enumeration stopped at."""
    zone = timezone(offset)
    runs: set[datetime] = set()
    for tick in _ticks(schedule, start.astimezone(zone)):
        if tick >= until:
            break
        if len(runs) >= SAMPLE:
            return runs, tick.astimezone(UTC)
        runs.add(tick.astimezone(UTC))
    return runs, until


def moved_by_dst(schedule: str, tz: str, year: int) -> tuple[timedelta, timedelta] | None:
    """The zone's (standard, summer) offsets when running ``schedule`` at a fixed UTC offset would
    fire at other instants than the local schedule during part of ``year``; None when the zone
    keeps one offset or the schedule fires at the same UTC instants either way (``*/5 * * * *``)."""
    offsets = dst_offsets(tz, year)
    if offsets is None:
        return None
    standard, summer = offsets
    start = datetime(year, 1, 5, tzinfo=UTC)  # compared away from the window's edges
    until = start + timedelta(days=35)
    runs_a, end_a = _utc_runs(schedule, standard, start, until)
    runs_b, end_b = _utc_runs(schedule, summer, start, until)
    inner_start, inner_end = start + timedelta(days=1), min(end_a, end_b) - timedelta(days=1)
    a = {t for t in runs_a if inner_start <= t < inner_end}
    b = {t for t in runs_b if inner_start <= t < inner_end}
    return None if a == b else offsets
