"""Scheduled ticks: Knative's PingSource, which IBM Code Engine's cron subscriptions are built on.

A PingSource sends ``type: dev.knative.sources.ping`` with ``source:
/apis/v1/namespaces/NS/pingsources/NAME`` and its ``data`` (``spec.data``, JSON or text) each
time its ``schedule`` fires in its ``timezone`` (https://knative.dev/docs/eventing/sources/ping-source/).
Code Engine's cron subscriptions send the same type and source layout
(https://cloud.ibm.com/docs/codeengine?topic=codeengine-subscribe-cron). The event carries
neither the schedule nor the time zone: the deployed handler's declaration has them, and the
adapter's ``bind`` step fills them in (:mod:`corefn_knative`).
"""

from __future__ import annotations

from typing import ClassVar

from corefn.events import Event, TimerEvent
from corefn_knative._envelope import CloudEventShape, last_segment

PING_TYPE = "dev.knative.sources.ping"


class PingSource(CloudEventShape):
    name: ClassVar[str] = "pingsource"
    kind: ClassVar[str] = "timer"
    types: ClassVar[tuple[str, ...]] = (PING_TYPE,)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        source = r.str(raw, "source")
        if "/pingsources/" not in source:
            raise r.error("source", f"should be /apis/v1/namespaces/NS/pingsources/NAME, got {source!r}")
        time = r.time(raw, "time")
        if time is None:
            raise r.error("time")  # PingSource always stamps the tick's time
        return [TimerEvent(time=time, name=last_segment(source), id=r.str(raw, "id"), raw=raw)]

