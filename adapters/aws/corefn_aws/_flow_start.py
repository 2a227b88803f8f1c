"""``ctx.start_flow`` on AWS: ``StartExecution`` on the flow's state machine, whose ARN the
generator put in the starter function's ``COREFN_FLOW_<NAME>`` (:mod:`corefn_aws._flow_resources`).

Idempotency: a run started with a ``key`` (a trigger's event id) is an execution *named* after
it. For a STANDARD state machine, a second ``StartExecution`` with the same name and input while
the first runs returns the first; once it has ended, or with another input, it fails
``ExecutionAlreadyExists`` (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html),
which here means "already started": the first execution's ARN is returned, as the local store does
for a repeated key. Execution names are 1-80 characters without whitespace, brackets, wildcards or
``"#%\\^|~`$&,;:/`` (same page), so the key is cleaned and a hash of it keeps distinct keys apart.

boto3 is imported on the first start only (cold start), and its client kept for warm invocations.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.context import Context

_clients: list[Any] = []


def flow_env(flow: str) -> str:
    """The environment variable holding a flow's state machine ARN in its starters' functions."""
    return "COREFN_FLOW_" + re.sub(r"[^A-Za-z0-9]", "_", flow).upper()


def execution_name(key: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_.=@+-]", "-", key)[:63]
    return f"{clean}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def execution_arn(machine_arn: str, name: str) -> str:
    """``arn:aws:states:<region>:<account>:execution:<machine>:<name>`` from the machine's ARN."""
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def _client() -> Any:
    if not _clients:
        import boto3

        _clients.append(boto3.client("stepfunctions"))
    return _clients[0]


def start_flow(ctx: Context, flow: str, payload: str, key: str | None) -> str:
    """Start an execution of ``flow``'s state machine with ``payload`` (JSON text); its ARN."""
    variable = flow_env(flow)
    machine = os.environ.get(variable)
    if not machine:
        raise ConfigurationError(
            f"ctx.start_flow({flow!r}) on aws: {variable} is not set; corefn deploy gives the state machine's ARN "
            f"(and states:StartExecution on it) only to the functions of triggers applied to the flow"
        )
    client = _client()
    request: dict[str, Any] = {"stateMachineArn": machine, "input": payload}
    if key is not None:
        request["name"] = execution_name(key)
    try:
        return str(client.start_execution(**request)["executionArn"])
    except client.exceptions.ExecutionAlreadyExists:
        return execution_arn(machine, request["name"])


__all__ = ["execution_arn", "execution_name", "flow_env", "start_flow"]
