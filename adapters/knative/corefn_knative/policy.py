"""A handler's portable retry policy (:mod:`corefn.policy`) in Knative's terms: the ``delivery``
of its Trigger or KafkaSource (Knative Eventing DeliverySpec: ``retry``, ``backoffPolicy``,
``backoffDelay``, ``deadLetterSink``; https://knative.dev/docs/eventing/event-delivery/). The
generator writes exactly these values.

Knative rules this depends on:

- ``retry`` counts redeliveries after the first attempt (so ``max_attempts - 1``); it is a
  number, there is no "until the record expires": ``max_attempts=0`` becomes :data:`FOREVER`
  retries, with a note.
- ``backoffDelay`` is an ISO 8601 duration; ``exponential`` doubles it at each retry.
- a dead letter is a sink (any Addressable); corefn sends poison events to a Broker named after
  the handler's ``dead_letter`` (default ``<app>-dead-letter``), which the manifests create, and
  Knative stamps them with ``knativeerrorcode`` / ``knativeerrordata``. A bucket cannot receive
  events: such a dead letter falls back to the app's dead-letter Broker, with a note.
- a PingSource has no delivery settings: a failed tick is not retried (noted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.policy import CompiledPolicy, RetryPolicy

if TYPE_CHECKING:
    from corefn.app import App

DEFAULT_BACKOFF = 0.5
FOREVER = 100  # retries for max_attempts=0: exponential from 0.5 s, the last ones years apart


def dead_letter_broker(app: App, policy: RetryPolicy, notes: list[str]) -> str:
    from corefn_knative.generator import k8s_name

    dead = policy.dead_letter
    if dead is None:
        return k8s_name(f"{app.name}-dead-letter")
    if dead.type == "bucket":
        notes.append(f"{policy.handler}: Knative cannot dead-letter to bucket {dead.name!r}; poison events go to the {app.name}-dead-letter Broker")
        return k8s_name(f"{app.name}-dead-letter")
    return k8s_name(dead.name)


def compile_policy(app: App, policy: RetryPolicy) -> CompiledPolicy:
    notes: list[str] = []
    if policy.delivery == "sync":
        return CompiledPolicy("knative", policy, {})
    if policy.kind == "timer":
        notes.append(f"{policy.handler}: a PingSource does not retry a failed tick (it has no delivery settings)")
        return CompiledPolicy("knative", policy, {}, tuple(notes))
    if policy.retries_forever:
        notes.append(f"{policy.handler}: Knative retries a fixed number of times; max_attempts=0 becomes {FOREVER} retries")
        retry = FOREVER
    else:
        retry = max(0, policy.max_attempts - 1)
    if policy.max_age is not None:
        notes.append(f"{policy.handler}: a KafkaSource has no maximum record age; max_age is not applied")
    backoff = DEFAULT_BACKOFF if policy.backoff is None else policy.backoff
    delivery: dict[str, Any] = {
        "retry": retry,
        "backoffPolicy": "exponential",
        "backoffDelay": f"PT{backoff:g}S",
        "deadLetterSink": {
            "ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": dead_letter_broker(app, policy, notes)}
        },
    }
    return CompiledPolicy("knative", policy, {"delivery": delivery}, tuple(notes))
