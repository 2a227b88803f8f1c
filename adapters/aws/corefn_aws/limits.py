"""What ``corefn check`` asks the AWS adapter beyond its ``facts/limits.toml``: whether a schedule
translates to EventBridge's cron at all, by running the very translation ``corefn deploy`` uses
(:func:`corefn_aws._cron.to_eventbridge`)."""

from __future__ import annotations

from collections.abc import Mapping

from corefn.errors import ConfigurationError
from corefn_aws._cron import to_eventbridge

CRON_PAGE = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based"


def schedule_error(schedule: str, tz: str, options: Mapping[str, str]) -> tuple[str, str] | None:
    """Why EventBridge cannot take ``schedule`` (and the page saying so), or None. Both day fields
    restricted is left to the data-driven ``schedule_day_fields`` fact, not reported twice."""
    fields = schedule.split()
    if len(fields) == 5 and fields[2] not in ("*", "?") and fields[4] not in ("*", "?"):
        return None
    try:
        to_eventbridge(schedule)
    except ConfigurationError as exc:
        return str(exc), CRON_PAGE
    return None
