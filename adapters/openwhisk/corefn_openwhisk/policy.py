"""A handler's portable retry policy (:mod:`corefn.policy`) in Apache OpenWhisk's terms.

OpenWhisk itself retries nothing: a rule fires an action once, and a failed activation is only
recorded (https://github.com/apache/openwhisk/blob/master/docs/triggers_rules.md). So:

- queues (Kafka topics through ``/whisk.system/messaging/messageHubFeed``): corefn counts the
  attempts and republishes, then writes the dead-letter topic itself (:mod:`corefn_openwhisk.queue`):
  ``max_attempts`` and ``dead_letter_topic`` are what the action does; the dead letter must be a
  queue or topic (a Kafka topic), not a bucket;
- streams (Kafka) and change feeds (Cloudant): the feeds fire and never redeliver, so corefn
  retries a failed record in place and then writes it to the dead-letter Kafka topic
  (:func:`corefn_openwhisk.stream.settle_stream`);
- storage (the MinIO-style webhook): the store retries a notification answered 500 when its
  target has a ``queue_dir`` (how long is the store's setting, not corefn's); timers: no retry.

``notes`` say each of these where the policy asks for more, and the README lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.policy import DEFAULT_MAX_ATTEMPTS, CompiledPolicy, RetryPolicy

if TYPE_CHECKING:
    from corefn.app import App


def compile_policy(app: App, policy: RetryPolicy) -> CompiledPolicy:
    settings: dict[str, Any] = {}
    notes: list[str] = []
    if policy.delivery == "queue":
        dead = policy.dead_letter
        if dead is not None and dead.kind == "bucket":
            raise ConfigurationError(f"handler {policy.handler!r}: on OpenWhisk a queue's dead letter is a Kafka topic; {dead.name!r} is a bucket")
        queue = app.handler(policy.handler).resource
        settings = {"max_attempts": policy.max_attempts, "dead_letter_topic": dead.name if dead else f"{queue}-dlq"}
        attempts = "without end" if policy.retries_forever else f"until {policy.max_attempts} attempts"
        notes.append(f"{policy.handler}: corefn republishes a failed message to {queue!r} {attempts}, then writes it to topic {settings['dead_letter_topic']!r}")
        if policy.backoff:
            notes.append(f"{policy.handler}: backoff {policy.backoff:g} s is not applied: a failed message is republished at once (Kafka has no delayed delivery)")
    elif policy.delivery == "stream":
        dead = policy.dead_letter
        if dead is not None and dead.kind == "bucket":
            raise ConfigurationError(f"handler {policy.handler!r}: on OpenWhisk a stream's or change feed's dead letter is a Kafka topic; {dead.name!r} is a bucket")
        stream = app.handler(policy.handler).resource
        tries = policy.max_attempts or DEFAULT_MAX_ATTEMPTS  # 0 (until the record expires): the feed keeps nothing
        settings = {"max_attempts": tries, "dead_letter_topic": dead.name if dead else f"{stream}-dlq"}
        notes.append(f"{policy.handler}: the feed never redelivers: corefn retries a failed record in place, in partition order, "
                     f"until {tries} attempts, then writes it to topic {settings['dead_letter_topic']!r}")  # fmt: skip
    elif policy.kind == "storage":
        settings = {"store_retries": "queue_dir"}
        notes.append(f"{policy.handler}: retried by the object store while its webhook target has a queue_dir (MinIO); no dead letter")
    elif policy.delivery == "event":
        notes.append(f"{policy.handler}: an alarm fires once: a failure is recorded in the activation, not retried")
    if policy.timeout:
        settings["timeout_ms"] = int(policy.timeout * 1000)
    return CompiledPolicy("openwhisk", policy, settings, tuple(notes))
