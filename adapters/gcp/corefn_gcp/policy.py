"""The portable retry policy (:mod:`corefn.policy`) in Google Cloud's terms.

Queue, topic and stream handlers are fed by corefn's own Pub/Sub push subscription
(https://cloud.google.com/pubsub/docs/handling-failures): ``max_delivery_attempts`` (Pub/Sub
allows 5-100: a smaller or larger count is moved into that range, with a note), a dead-letter
topic (the declared queue or topic, else ``<topic>-dead-letter``), exponential backoff between
``min_retry_delay`` and ``max_retry_delay`` (10-600 s: Pub/Sub's range), and an acknowledgement
deadline of the handler's timeout, else the function's default 60 s (10-600 s: a push is
acknowledged by the function's answer, so a shorter deadline redelivers a message still being
handled: https://cloud.google.com/pubsub/docs/lease-management). ``max_attempts=0`` keeps the message until it
expires (no dead-letter policy: Pub/Sub's 7-day default retention).

Storage handlers get the same: the watched bucket's Pub/Sub notifications
(https://cloud.google.com/storage/docs/pubsub-notifications) go to a corefn topic per bucket
(:func:`corefn_gcp._infra.storage_topic`), read by the handler's own push subscription, whose
default dead-letter topic is ``<that topic>-dead-letter``.

Firestore handlers are Eventarc triggers with ``--retry`` (Firestore has no Pub/Sub
notification to use instead): Eventarc retries with exponential backoff for 24 hours and then
drops the event; it has no attempt count and no dead-letter destination
(https://cloud.google.com/functions/docs/bestpractices/retries), which the notes say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.policy import CompiledPolicy
from corefn_gcp._infra import attempts, dead_letter_topic, storage_topic

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.policy import RetryPolicy

MIN_DELAY, MAX_DELAY = 10, 600  # seconds: Pub/Sub's backoff bounds
MIN_ACK, MAX_ACK = 10, 600  # seconds: Pub/Sub's acknowledgement deadline bounds
#: Cloud Run functions' default timeout (https://cloud.google.com/functions/docs/configuring/timeout)
FUNCTION_TIMEOUT = 60
EVENTARC_RETRY = "24h"


def compile_policy(app: App, policy: RetryPolicy) -> CompiledPolicy:
    settings: dict[str, Any] = {}
    notes: list[str] = []
    if policy.delivery == "sync":
        return CompiledPolicy("gcp", policy, settings)
    spec = app.handler(policy.handler)
    if policy.kind in ("queue", "topic", "stream", "storage"):
        count, note = attempts(spec, policy.max_attempts)
        settings["ack_deadline"] = max(MIN_ACK, min(MAX_ACK, int(policy.timeout or FUNCTION_TIMEOUT)))
        settings["min_retry_delay"] = f"{max(MIN_DELAY, min(MAX_DELAY, int(policy.backoff or MIN_DELAY)))}s"
        settings["max_retry_delay"] = f"{MAX_DELAY}s"
        if note:
            notes.append(note)
        if count is not None:
            dead = policy.dead_letter
            if dead is not None and dead.kind == "bucket":
                raise ConfigurationError(
                    f"handler {policy.handler!r}: Pub/Sub dead-letters to a topic, not to bucket {dead.name!r}; name a queue or topic"
                )
            settings["max_delivery_attempts"] = count
            source = storage_topic(app.name, spec.resource or "") if policy.kind == "storage" else spec.resource or ""
            settings["dead_letter_topic"] = dead.name if dead is not None else dead_letter_topic(source)
        else:
            notes.append(f"handler {policy.handler!r}: max_attempts=0: retried until Pub/Sub's retention (7 days) expires, no dead letter")
    elif policy.kind == "nosql":
        settings["retry"] = EVENTARC_RETRY
        notes.append(
            f"handler {policy.handler!r}: Eventarc retries a failed event for {EVENTARC_RETRY} with backoff, then drops it "
            f"(no attempt count, no dead letter: max_attempts={policy.max_attempts} cannot be applied)"
        )
    elif policy.kind == "timer":
        notes.append(f"handler {policy.handler!r}: a failed Cloud Scheduler run is not retried (the next tick runs)")
    return CompiledPolicy("gcp", policy, settings, tuple(notes))
