"""What every OpenWhisk shape shares: the parameters corefn adds, and how a trigger-fired
activation reports its outcome.

An OpenWhisk action gets one flat ``params`` dict: the trigger's (or request's) parameters merged
over the action's bound default parameters. corefn's own defaults start with ``__corefn_``
(``__corefn_app``, ``__corefn_handler``) and OpenWhisk's request context with ``__ow_``; neither
belongs to the user, so both are removed before a handler sees a payload.

A trigger fires an action asynchronously: nobody waits for the result, and OpenWhisk never
redelivers a failed activation. So a failure must at least be *recorded*: the action returns
``{"error": ...}``, an OpenWhisk *application error*, which marks the activation failed in
``wsk activation list`` / IBM Cloud Logs with every failed record's id. It is never swallowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from corefn.dispatch import DispatchResult
from corefn.kit import Failure, PayloadShape

PROVIDER = "openwhisk"
#: parameter prefixes that are not the user's: OpenWhisk's web context and corefn's settings
INTERNAL_PREFIXES = ("__ow_", "__corefn_")


def user_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without OpenWhisk's ``__ow_*`` context and corefn's ``__corefn_*`` settings."""
    return {k: v for k, v in params.items() if not (isinstance(k, str) and k.startswith(INTERNAL_PREFIXES))}


def trigger_response(result: DispatchResult) -> dict[str, Any]:
    """The activation result for a trigger-fired delivery: a summary when every event was
    handled, else ``{"error": ...}`` naming each failed record (OpenWhisk application error)."""
    outcomes = result.outcomes
    failed = result.failed
    if failed:
        return {
            "error": {
                "message": f"{len(failed)} of {len(outcomes)} event(s) failed",
                "failed": [
                    {
                        "id": o.event.id,
                        "handler": o.spec.name if o.spec is not None else None,
                        "type": type(o.error).__name__,
                        "message": str(o.error),
                    }
                    for o in failed
                ],
            }
        }
    skipped = sum(1 for o in outcomes if o.skipped)
    return {"ok": True, "events": len(outcomes), "handled": len(outcomes) - skipped, "skipped": skipped}


class TriggerShape(PayloadShape):
    """What the trigger-fired shapes (alarms, COS, Kafka, Cloudant) share: they answer with
    :func:`trigger_response`, the only record a failure gets (a trigger's rule fires an action
    once and never retries it, so the activation's error result is the record)."""

    provider: ClassVar[str] = PROVIDER
    failure: ClassVar[Failure] = Failure.RESULT

    def to_response(self, result: DispatchResult) -> dict[str, Any]:
        return trigger_response(result)


def error_result(error: BaseException) -> dict[str, Any]:
    """An OpenWhisk application error for ``error`` (the activation is recorded as failed)."""
    return {"error": {"type": type(error).__name__, "message": str(error)}}
