"""corefn's 5-field cron (``minute hour day month weekday``) as an EventBridge ``cron()``.

EventBridge differs from Unix cron in three ways that matter:

- six fields (a trailing year: ``*``);
- exactly one of day-of-month and day-of-week must be ``?`` (Unix cron ORs the two when both
  are restricted, which EventBridge cannot express, so that is refused);
- days of the week count 1-7 from Sunday (Unix: 0-6 from Sunday, 7 also Sunday).

``*/n`` becomes ``0/n`` (or ``1/n`` for days and months), the increment form AWS documents.
"""

from __future__ import annotations

import re

from corefn.errors import ConfigurationError


def _weekday(field: str) -> str:
    def shift(match: re.Match[str]) -> str:
        return str(int(match.group()) % 7 + 1)

    parts = []
    for part in field.split(","):
        base, slash, step = part.partition("/")
        converted = re.sub(r"\d+", shift, base)
        if "-" in converted:
            low, _, high = converted.partition("-")
            if low.isdigit() and high.isdigit() and int(low) > int(high):
                raise ConfigurationError(f"weekday range {part!r} wraps past Saturday; split it (e.g. '5,6,0')")
        parts.append(converted + slash + step)
    return ",".join(parts)


def _increment(field: str, start: str) -> str:
    return start + field[1:] if field.startswith("*/") else field


def to_eventbridge(schedule: str) -> str:
    fields = schedule.split()
    if len(fields) != 5:
        raise ConfigurationError(f"cron {schedule!r} must have 5 fields")
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise ConfigurationError(
            f"cron {schedule!r} restricts both day of month and day of week; EventBridge supports only one of them"
        )
    if weekday in ("*", "?"):
        weekday = "?"
    else:
        day = "?"
        weekday = _weekday(weekday.upper())
    minute, hour = _increment(minute, "0"), _increment(hour, "0")
    day, month = _increment(day, "1"), _increment(month, "1")
    return f"cron({minute} {hour} {day} {month.upper()} {weekday} *)"
