"""corefn's 5-field cron + IANA zone → Azure's 6-field NCRONTAB, in the zone Azure will use.

NCRONTAB adds a leading seconds field: ``*/5 * * * *`` → ``0 */5 * * * *``. Day-of-week 7
(Sunday, accepted by cron) is written 0.

Time zones: a timer runs in UTC unless the app setting ``WEBSITE_TIME_ZONE`` names a zone. That
setting is honoured on Windows plans and on Linux Premium and Dedicated plans, but NOT on the Linux
Consumption plan, which is where Python apps run by default. So:

- ``plan`` ``premium`` or ``dedicated``: the schedule is kept and ``WEBSITE_TIME_ZONE`` is set to
  the IANA name (Linux takes IANA names). One zone per app: two timers in different zones are a
  :class:`~corefn.errors.ConfigurationError`.
- ``plan`` ``consumption`` (the default): the schedule is converted to UTC. With a fixed offset
  (``Asia/Seoul``, +09:00) that is exact. With daylight saving time it cannot be: the zone's
  standard offset is used and a :class:`ScheduleWarning` says the runs shift by the DST delta for
  part of the year. A shift that moves runs across midnight while the day-of-month or day-of-week
  field is restricted is refused (the day fields would need rewriting too).
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from corefn.errors import ConfigurationError

TZ_PLANS = frozenset({"premium", "dedicated"})  # Python runs on Linux only: IANA names
PLANS = TZ_PLANS | {"consumption", "flex"}
_DOW_NAMES = {"7": "0"}


class ScheduleWarning(UserWarning):
    """A generated schedule is only an approximation of the declared one."""


def to_ncrontab(schedule: str) -> str:
    minute, hour, dom, month, dow = schedule.split()
    dow = ",".join(_DOW_NAMES.get(part, part) for part in dow.split(","))
    return f"0 {minute} {hour} {dom} {month} {dow}"


def offsets(tz: str) -> tuple[timedelta, bool]:
    """(standard UTC offset, whether the zone observes DST), from two fixed dates so that
    generated files do not change with the season they are generated in."""
    zone = ZoneInfo(tz)
    seen = {datetime(2025, month, 1, 12, tzinfo=zone).utcoffset() or timedelta(0) for month in (1, 7)}
    return min(seen), len(seen) > 1


def _expand(field: str, low: int, high: int) -> list[int] | None:
    """The values a numeric cron field selects, or None for syntax this converter leaves alone."""
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if not (step_text.isdigit() or not step_text):
            return None
        step = int(step_text or 1)
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            if not (first.isdigit() and last.isdigit()):
                return None
            start, stop = int(first), int(last)
        elif base.isdigit():
            start, stop = int(base), int(base) if not step_text else high
        else:
            return None
        if step <= 0 or start < low or stop > high:
            return None
        values.update(range(start, stop + 1, step))
    return sorted(values)


def _join(values: list[int], low: int, high: int) -> str:
    if values == list(range(low, high + 1)):
        return "*"
    return ",".join(str(v) for v in values)


def to_utc(schedule: str, tz: str) -> str:
    """The 5-field ``schedule`` in ``tz`` rewritten for UTC (see module docstring)."""
    offset, has_dst = offsets(tz)
    if has_dst:
        warnings.warn(
            f"timer {schedule!r} in {tz}: the Linux Consumption plan ignores WEBSITE_TIME_ZONE and {tz} observes "
            "daylight saving time, so the schedule is converted with its standard offset and runs one hour off "
            "during DST; use plan 'premium' or 'dedicated' for exact local times",
            ScheduleWarning,
            stacklevel=3,
        )
    total = int(offset.total_seconds() // 60)
    if total == 0:
        return schedule
    minute, hour, dom, month, dow = schedule.split()
    minutes, hours = _expand(minute, 0, 59), _expand(hour, 0, 23)
    if minutes is None or hours is None:
        raise ConfigurationError(f"cannot convert timer {schedule!r} from {tz} to UTC: use numeric minute and hour fields")
    shift_minutes = [m - total % 60 for m in minutes]
    carries = {m // 60 for m in shift_minutes}
    if len(carries) > 1:
        raise ConfigurationError(f"cannot convert timer {schedule!r} from {tz} to UTC: the minutes straddle an hour")
    carry = carries.pop() - total // 60
    shifted = [h + carry for h in hours]
    days = {h // 24 for h in shifted}
    if days != {0} and (dom != "*" or dow != "*"):
        raise ConfigurationError(
            f"cannot convert timer {schedule!r} from {tz} to UTC: the runs cross midnight UTC while the day fields "
            "are restricted; use plan 'premium' or 'dedicated' (WEBSITE_TIME_ZONE)"
        )
    new_minutes = sorted(m % 60 for m in shift_minutes)
    new_hours = sorted({h % 24 for h in shifted})
    return f"{_join(new_minutes, 0, 59)} {_join(new_hours, 0, 23)} {dom} {month} {dow}"
