"""What ``corefn check`` asks the Azure adapter beyond its ``facts/limits.toml``: whether a local
time schedule can be rewritten in UTC for a plan without time zones, by running the translation
``corefn deploy`` uses (:func:`corefn_azure._schedule.to_utc`). The DST drift that conversion
implies is the generic ``schedule-dst`` rule's; this reports the schedules it refuses outright
(minutes straddling an hour, runs crossing midnight with restricted day fields)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from corefn.errors import ConfigurationError
from corefn_azure._schedule import TZ_PLANS, ScheduleWarning, to_utc

TZ_PAGE = "https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-timer#ncrontab-time-zones"


def schedule_error(schedule: str, tz: str, options: Mapping[str, str]) -> tuple[str, str] | None:
    """Why the app's plan cannot run ``schedule`` in ``tz`` (and the page saying so), or None."""
    if tz == "UTC" or options.get("plan", "flex") in TZ_PLANS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScheduleWarning)
            to_utc(schedule, tz)
    except ConfigurationError as exc:
        return str(exc), TZ_PAGE
    return None
