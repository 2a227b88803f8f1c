"""Flows: several invoke handlers in sequence, in parallel, over a list, with waits, retries and
fallbacks, declared once (``app.flow(...)``) and run durably by ``corefn run``.

The declaration is frozen data (:mod:`corefn.flows.spec`); the local engine replays it against
its recorded steps (:mod:`corefn.flows.engine`, :mod:`corefn.flows.store`); step payloads stay
within the clouds' workflow limits (:mod:`corefn.flows.limits`). Importing this package imports
neither the engine nor SQLite.
"""

from corefn.flows.limits import PAYLOAD_LIMIT, FlowDataError, FlowPayloadTooLarge
from corefn.flows.spec import (
    ANY_ERROR,
    Catch,
    Choice,
    FlowSpec,
    Map,
    Node,
    Parallel,
    Retry,
    Sequence,
    Task,
    Wait,
    When,
    choice,
    each,
    parallel,
    sequence,
    step,
    wait,
    walk,
    when,
)

__all__ = [
    "ANY_ERROR",
    "PAYLOAD_LIMIT",
    "Catch",
    "Choice",
    "FlowDataError",
    "FlowPayloadTooLarge",
    "FlowSpec",
    "Map",
    "Node",
    "Parallel",
    "Retry",
    "Sequence",
    "Task",
    "Wait",
    "When",
    "choice",
    "each",
    "parallel",
    "sequence",
    "step",
    "wait",
    "walk",
    "when",
]
