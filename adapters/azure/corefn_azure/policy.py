"""A handler's portable retry policy (:mod:`corefn.policy`) in Azure's terms: ``host.json``'s
queue settings, the Service Bus entity's delivery count, the function's ``@app.retry`` and the
Event Grid subscription's retry policy. The generators (``function_app.py``, ``host.json``, the
ARM templates) write exactly these values; the tests compare them field by field.

Azure rules this depends on:

- Queue Storage triggers: ``extensions.queues.maxDequeueCount`` (one value per function app)
  deliveries, then the message moves to ``<queue>-poison``; ``visibilityTimeout`` is the delay
  between retries
  (https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-storage-queue#host-json).
- Service Bus: the queue's or subscription's ``maxDeliveryCount`` (1-2000 in the ARM schema of
  ``Microsoft.ServiceBus/namespaces/queues``), then the entity's dead-letter sub-queue, which
  ``forwardDeadLetteredMessagesTo`` can forward to another queue or topic
  (https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-dead-letter-queues).
- Event Hubs, Cosmos DB and timer triggers: a function-level retry policy (``@app.retry``,
  ``exponentialBackoff`` or ``fixedDelay``, ``maxRetryCount`` where -1 retries forever);
  without one, Event Hubs and the change feed checkpoint past a failed batch
  (https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-error-pages#retries).
  Neither service has a dead-letter destination: once the retries are spent, corefn writes the
  failed record to the handler's dead letter itself (:mod:`corefn_azure.deadletter`).
- Event Grid (the blob trigger on Flex Consumption): the subscription's
  ``retryPolicy.maxDeliveryAttempts`` (1-30) and ``eventTimeToLiveInMinutes`` (1-1440), then its
  ``deadLetterDestination``, a blob container
  (https://learn.microsoft.com/en-us/azure/event-grid/delivery-and-retry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.policy import CompiledPolicy, RetryPolicy

if TYPE_CHECKING:
    from corefn.app import App

MAX_DELIVERY_COUNT = 2000
EVENT_GRID_ATTEMPTS = (1, 30)
EVENT_GRID_TTL_MINUTES = 1440
#: Queue Storage keeps a message 7 days by default: "until expiry" there is a dequeue count that
#: a 5-minute visibility timeout cannot reach in that time
UNTIL_EXPIRY_DEQUEUES = 2016


def _interval(seconds: float) -> str:
    whole = max(1, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _dead_letter(policy: RetryPolicy, own: str, allowed: tuple[str, ...], notes: list[str]) -> dict[str, Any]:
    """``{"kind": ..., "name": logical name or None}``; ``None`` = ``own`` (the cloud's or the
    generator's convention)."""
    dead = policy.dead_letter
    if dead is None:
        return {"kind": own, "name": None}
    if dead.type not in allowed:
        notes.append(f"{policy.handler}: Azure cannot dead-letter a {policy.kind} message to {dead.type} {dead.name!r}; it goes to the {own} the template creates")
        return {"kind": own, "name": None}
    return {"kind": dead.type, "name": dead.name}


def compile_policy(app: App, policy: RetryPolicy) -> CompiledPolicy:
    opts = {**app.defaults.provider.get("azure", {})}
    spec = next((s for s in app.handlers if s.name == policy.handler), None)
    if spec is not None:
        opts.update(spec.options.provider.get("azure", {}))
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if policy.timeout:
        settings["functionTimeout"] = _interval(policy.timeout)
    service = opts.get("service", "storage") if policy.kind == "queue" else ("servicebus" if policy.kind == "topic" else None)
    if policy.delivery == "queue" and service == "storage":
        settings["maxDequeueCount"] = UNTIL_EXPIRY_DEQUEUES if policy.retries_forever else policy.max_attempts
        if policy.backoff:
            settings["visibilityTimeout"] = _interval(policy.backoff)
            notes.append(f"{policy.handler}: Queue Storage retries after visibilityTimeout ({settings['visibilityTimeout']}), a fixed delay")
        settings["DeadLetter"] = {"kind": "queue", "name": None}
        if policy.dead_letter is not None:
            notes.append(f"{policy.handler}: Queue Storage always poisons to <queue>-poison; dead_letter {policy.dead_letter.name!r} is not used")
    elif service == "servicebus":
        settings["maxDeliveryCount"] = MAX_DELIVERY_COUNT if policy.retries_forever else min(policy.max_attempts, MAX_DELIVERY_COUNT)
        if policy.retries_forever:
            notes.append(f"{policy.handler}: max_attempts=0: Service Bus stops at {MAX_DELIVERY_COUNT} deliveries, then dead-letters")
        settings["DeadLetter"] = _dead_letter(policy, "subqueue", ("queue", "topic"), notes)
    elif policy.delivery == "stream" or policy.kind == "timer":
        retries = -1 if policy.retries_forever else policy.max_attempts - 1
        settings["retry"] = {
            "strategy": "exponential_backoff", "max_retry_count": retries,
            "minimum_interval": _interval(policy.backoff or 1), "maximum_interval": "00:01:00",
        }  # fmt: skip
        if policy.delivery == "stream":
            settings["DeadLetter"] = _dead_letter(policy, "bucket", ("queue", "bucket"), notes)
            if policy.max_age is not None:
                settings["maxAge"] = policy.max_age
            notes.append(f"{policy.handler}: Azure has no dead-letter destination for this trigger: after {policy.max_attempts or 'unlimited'} attempts corefn writes the record to its dead letter, then moves on")
    elif policy.kind == "storage":
        low, high = EVENT_GRID_ATTEMPTS
        wanted = high if policy.retries_forever else policy.max_attempts
        settings["maxDeliveryAttempts"] = min(max(wanted, low), high)
        settings["eventTimeToLiveInMinutes"] = EVENT_GRID_TTL_MINUTES
        if wanted > high:
            notes.append(f"{policy.handler}: Event Grid delivers at most {high} times")
        settings["DeadLetter"] = _dead_letter(policy, "bucket", ("bucket",), notes)
    return CompiledPolicy("azure", policy, settings, tuple(notes))
