"""A handler's portable retry policy (:mod:`corefn.policy`) in AWS's terms: the SQS redrive, the
event-source mapping's retry fields, Lambda's asynchronous-invocation settings. The SAM generator
writes exactly these values; the tests compare the template with them field by field.

AWS rules this depends on:

- SQS: ``maxReceiveCount`` receives, then the redrive policy moves the message to its
  dead-letter queue, which must be a queue of the same type (FIFO for FIFO)
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
  The retry delay is the visibility timeout, which must be at least 6x the function timeout
  (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
- Kinesis / DynamoDB Streams mappings: ``MaximumRetryAttempts`` 0-10000 or -1 (until the record
  expires), ``MaximumRecordAgeInSeconds`` 60-604800 or -1, ``BisectBatchOnFunctionError``, and
  an on-failure destination that is an SQS queue or SNS topic
  (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
- Asynchronous invocations (S3, SNS, EventBridge Scheduler): Lambda retries at most twice
  (``MaximumRetryAttempts`` 0-2), then the function's dead-letter queue (SQS or SNS)
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from corefn.policy import DEFAULT_MAX_ATTEMPTS, CompiledPolicy, RetryPolicy

if TYPE_CHECKING:
    from corefn.app import App

MAX_STREAM_RETRIES = 10000
MAX_ASYNC_RETRIES = 2
#: record age bounds of a stream mapping, seconds
RECORD_AGE = (60, 604800)
#: destination kinds each delivery can send to, by corefn resource kind
DESTINATIONS: dict[str, dict[str, str]] = {
    "queue": {"queue": "SQS"},
    "stream": {"queue": "SQS", "topic": "SNS"},
    "event": {"queue": "SQS", "topic": "SNS"},
}


def _destination(policy: RetryPolicy, notes: list[str]) -> dict[str, Any]:
    """``{"Type": "SQS"|"SNS", "name": logical name or None}``; ``None`` = the queue the
    generator creates for this handler."""
    dead = policy.dead_letter
    allowed = DESTINATIONS[policy.delivery]
    if dead is None:
        return {"Type": "SQS", "name": None}
    if dead.type not in allowed:
        notes.append(
            f"{policy.handler}: AWS cannot dead-letter a {policy.kind} message to {dead.type} {dead.name!r}; "
            "poison messages go to the queue the template creates for this handler"
        )
        return {"Type": "SQS", "name": None}
    return {"Type": allowed[dead.type], "name": dead.name}


def compile_policy(app: App, policy: RetryPolicy) -> CompiledPolicy:
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if policy.timeout:
        settings["Timeout"] = max(1, math.ceil(policy.timeout))
    if policy.delivery == "queue":
        timeout = settings.get("Timeout", 10)
        settings["VisibilityTimeout"] = max(30, 6 * timeout, math.ceil(policy.backoff or 0))
        settings["maxReceiveCount"] = policy.max_attempts or None
        settings["DeadLetter"] = _destination(policy, notes)
        if policy.retries_forever:
            notes.append(f"{policy.handler}: max_attempts=0: retried until SQS drops the message at the end of its retention period (14 days)")
        if policy.backoff:
            notes.append(f"{policy.handler}: SQS retries after the visibility timeout ({settings['VisibilityTimeout']} s), a fixed delay, not a doubling one")
    elif policy.delivery == "stream":
        retries = -1 if policy.retries_forever else min(MAX_STREAM_RETRIES, policy.max_attempts - 1)
        age = -1 if policy.max_age is None else min(max(policy.max_age, RECORD_AGE[0]), RECORD_AGE[1])
        if policy.max_age is not None and age != policy.max_age:
            notes.append(f"{policy.handler}: max_age {policy.max_age} s is outside Lambda's {RECORD_AGE[0]}-{RECORD_AGE[1]} s: {age} s")
        settings.update(MaximumRetryAttempts=retries, BisectBatchOnFunctionError=True, MaximumRecordAgeInSeconds=age)
        settings["OnFailure"] = _destination(policy, notes)
    elif policy.delivery == "event":
        wanted = MAX_ASYNC_RETRIES if policy.retries_forever else policy.max_attempts - 1
        settings["MaximumRetryAttempts"] = min(MAX_ASYNC_RETRIES, wanted)
        if wanted > MAX_ASYNC_RETRIES and policy.max_attempts != DEFAULT_MAX_ATTEMPTS:  # the default is capped quietly
            notes.append(f"{policy.handler}: Lambda retries a {policy.kind} event at most {MAX_ASYNC_RETRIES} times ({MAX_ASYNC_RETRIES + 1} attempts, not {policy.max_attempts})")
        settings["DeadLetterQueue"] = _destination(policy, notes)
    return CompiledPolicy("aws", policy, settings, tuple(notes))
