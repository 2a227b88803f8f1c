"""How large the JSON passed between steps may be: the smallest limit of the clouds' workflow
services, so a flow that runs locally fits on every one of them.

==================  ==========  ==============================================================
service             limit       rule (page)
==================  ==========  ==============================================================
Step Functions      262,144 B   a state's, task's or execution's input or output: 256 KiB as a
                                UTF-8 string (https://docs.aws.amazon.com/step-functions/latest/
                                dg/service-quotas.html; the history events' ``input`` /
                                ``output`` fields: "Maximum length of 262144", https://docs.aws.
                                amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html).
                                Larger fails the state with ``States.DataLimitExceeded``, "a
                                terminal error that can't be caught by the States.ALL error type"
                                (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
Durable Functions   64 KB       an Azure Storage queue message (https://learn.microsoft.com/
(Azure Storage)     (spills)    azure/storage/queues/storage-queues-introduction); the Azure
                                Storage provider keeps larger payloads in a blob container and
                                queues a reference (https://learn.microsoft.com/azure/
                                azure-functions/durable/durable-functions-azure-storage-provider,
                                "blob containers … for large messages"), so 64 KB costs speed,
                                not correctness: not the binding limit.
Cloud Workflows     512 KB      the cumulative size of variables, arguments and events
                                (https://cloud.google.com/workflows/quotas, "Memory limit for
                                variables"); a step result is a variable.
==================  ==========  ==============================================================

So the binding limit is Step Functions' 256 KiB, applied to the flow's input and every step's
result, measured as compact UTF-8 JSON (what the services measure). Above it the run fails with
:class:`FlowPayloadTooLarge`, never retried or caught (as on Step Functions). The answer to a
large result is the claim-check pattern: put the data in an object store and pass its key.
"""

from __future__ import annotations

import json
from typing import Any

from corefn.errors import ConfigurationError

#: service → (bytes, page); the smallest strict one is enforced
PAYLOAD_LIMITS: dict[str, tuple[int, str]] = {
    "aws-step-functions": (262_144, "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"),
    "gcp-workflows": (524_288, "https://cloud.google.com/workflows/quotas"),
}
#: Durable Functions spills larger messages to blobs: listed for the limits check, not enforced
SPILLED_LIMITS: dict[str, tuple[int, str]] = {
    "azure-durable-functions": (
        65_536,
        "https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-azure-storage-provider",
    ),
}
PAYLOAD_LIMIT = min(size for size, _ in PAYLOAD_LIMITS.values())


class FlowPayloadTooLarge(ConfigurationError):
    """A step's result (or a flow's input) is larger than every cloud's workflow service takes."""

    def __init__(self, flow: str, step: str, size: int, limit: int = PAYLOAD_LIMIT) -> None:
        self.flow = flow
        self.step = step
        self.size = size
        self.limit = limit
        super().__init__(
            f"flow {flow!r}: {step} is {size:,} bytes of JSON, over the {limit:,}-byte limit of step payloads "
            "(Step Functions' 256 KiB); store large data in an object store and pass its key"
        )


class FlowDataError(ConfigurationError):
    """A result is not JSON, or a map's items / a wait's time is missing or of the wrong type."""


def encode(flow: str, step: str, value: Any) -> str:
    """``value`` as compact JSON, checked against the limit."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FlowDataError(f"flow {flow!r}: {step} is not JSON: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > PAYLOAD_LIMIT:
        raise FlowPayloadTooLarge(flow, step, size)
    return text
