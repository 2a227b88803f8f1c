"""Timers. GCP has no timer trigger (Cloud Scheduler calls an HTTP target or publishes to Pub/Sub:
https://cloud.google.com/scheduler/docs/schedule-run-cron-job): the generated Cloud Scheduler job calls the function, and corefn recognises the job's
calls by a mark the generator puts on them:

- HTTP target (the default the generator writes): header ``X-Corefn-Timer: <handler>`` (and
  ``X-Corefn-Schedule: <cron>``). Cloud Scheduler itself adds ``X-CloudScheduler: true``,
  ``X-CloudScheduler-JobName`` and ``X-CloudScheduler-ScheduleTime`` (RFC 3339): the latter is the
  tick's time, so a retried or late call still reports when it was due.
- Pub/Sub target: message attribute ``corefn-timer: <handler>`` (and ``corefn-schedule``); the
  message's ``publishTime`` is the tick's time (Pub/Sub targets carry no schedule time).

Only the calls of a declared timer's job reach its function: it is deployed without public
access, and Cloud Scheduler authenticates with an OIDC token.
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.events import Event, TimerEvent
from corefn_gcp._envelope import EventShape
from corefn_gcp.http import EXECUTION_ID, flask_request, is_flask_request
from corefn_gcp.queue import peek_attributes, read_delivery

TIMER_HEADER = "X-Corefn-Timer"
SCHEDULE_HEADER = "X-Corefn-Schedule"
TIMER_ATTRIBUTE = "corefn-timer"
SCHEDULE_ATTRIBUTE = "corefn-schedule"
SCHEDULER_JOB_HEADER = "X-CloudScheduler-JobName"
SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"


class SchedulerHttp(EventShape):
    """A Cloud Scheduler HTTP-target call (a Flask request with the scheduler's headers)."""

    name: ClassVar[str] = "scheduler-http"
    kind: ClassVar[str] = "timer"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_flask_request(raw) and (TIMER_HEADER in raw.headers or SCHEDULER_JOB_HEADER in raw.headers)

    def to_events(self) -> list[Event]:
        r = self.reader
        request = flask_request(r, self.raw)
        headers = {name.lower(): value for name, value in request.headers.items()}  # HTTP names are case-blind
        return [
            TimerEvent(
                time=r.time(headers, SCHEDULE_TIME_HEADER.lower()),
                schedule=headers.get(SCHEDULE_HEADER.lower()),
                name=headers.get(TIMER_HEADER.lower()),
                id=headers.get(EXECUTION_ID.lower()),
                raw=self.raw,
            )
        ]


class SchedulerPubSub(EventShape):
    """A Cloud Scheduler Pub/Sub-target message, in any Pub/Sub envelope."""

    name: ClassVar[str] = "scheduler-pubsub"
    kind: ClassVar[str] = "timer"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return TIMER_ATTRIBUTE in peek_attributes(raw)

    def to_events(self) -> list[Event]:
        r = self.reader
        delivery = read_delivery(r, self.raw)
        attributes = delivery.attributes(r)
        at = f"{delivery.at}.attributes"
        return [
            TimerEvent(
                time=delivery.time(r),
                schedule=r.opt_str(attributes, SCHEDULE_ATTRIBUTE, at=at),
                name=r.str(attributes, TIMER_ATTRIBUTE, at=at),
                id=delivery.message_id(r),
                raw=self.raw,
            )
        ]
