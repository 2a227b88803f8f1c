"""Dead letters for Event Hubs and Cosmos DB handlers, which Azure does not have: once the
function's retry policy is spent (:mod:`corefn_azure.policy`), the host checkpoints past the
batch, so corefn writes each failed record to the handler's dead letter first.

The dead letter's URL is the app setting :func:`setting_name` (``COREFN_DEADLETTER_<HANDLER>``,
written by the ARM template): ``az://account/container`` (one blob per record, the record's
bytes and a JSON sidecar of where it came from) or ``azqueue://account/queue``.
"""

from __future__ import annotations


def setting_name(handler: str) -> str:
    return "COREFN_DEADLETTER_" + "".join(c if c.isalnum() else "_" for c in handler).upper()
