"""``ctx.start_flow`` on Google Cloud: an execution of the flow's workflow, started through the
Workflows Executions REST API (``POST https://workflowexecutions.googleapis.com/v1/{workflow}/executions``
with ``{"argument": "<JSON text>"}``: https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create),
as the function's own service account (deploy.sh grants it ``roles/workflows.invoker`` on that
workflow only). google-auth is imported on the first start, not at cold start.

The workflow's resource name is in ``COREFN_FLOW_<NAME>`` (deploy.sh sets it on the functions a
trigger applied to the flow runs); without it, starting is a :class:`ConfigurationError` naming the
setting, never a local run. Workflows takes no idempotency key: ``key`` becomes the execution's
``corefn-key`` label (hashed to Workflows' label rules), and a start first lists the executions
carrying it (``filter=labels.corefn-key="…"``, https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/list):
a redelivered event finds its run instead of starting a second one. Two deliveries of one event
at the same instant could still both start (the list and the create are two calls).
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.context import Context

ENDPOINT = "https://workflowexecutions.googleapis.com/v1"
#: tests point this at a local server (no Workflows emulator exists)
ENDPOINT_ENV = "COREFN_WORKFLOWS_ENDPOINT"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
KEY_LABEL = "corefn-key"
_session: Any = None


def flow_setting(name: str) -> str:
    return "COREFN_FLOW_" + "".join(c if c.isalnum() else "_" for c in name).upper()


def _authorized() -> Any:
    global _session
    if _session is None:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _ = google.auth.default(scopes=[SCOPE])
        _session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    return _session


def start_flow(ctx: Context, name: str, payload: str, key: str | None) -> str:
    """Start one execution with ``payload`` (the run's input as JSON text, held to the payload
    limit by the core) as its argument; return its resource name (``projects/…/executions/ID``).
    The provider's ``start_flow`` member (:data:`corefn.kit.StartFlow`)."""
    setting = flow_setting(name)
    workflow = os.environ.get(setting)
    if not workflow:
        raise ConfigurationError(f"flow {name!r} has no workflow: set {setting} to projects/PROJECT/locations/REGION/workflows/NAME "
                                 "(deploy.sh sets it on the functions that start the flow)")  # fmt: skip
    body: dict[str, Any] = {"argument": payload}  # Workflows' argument is JSON text itself
    url = f"{os.environ.get(ENDPOINT_ENV) or ENDPOINT}/{workflow}/executions"
    session = _authorized()
    if key is not None:
        label = hashlib.sha256(key.encode()).hexdigest()[:63]
        body["labels"] = {KEY_LABEL: label}
        found = session.get(url, params={"filter": f'labels.{KEY_LABEL}="{label}"', "pageSize": 1, "view": "BASIC"}, timeout=30)
        if found.status_code >= 300:
            raise RuntimeError(f"flow {name!r}: Workflows answered {found.status_code} listing {workflow}'s executions: {found.text[:300]}")
        earlier = found.json().get("executions") or []
        if earlier and isinstance(earlier[0].get("name"), str):
            return str(earlier[0]["name"])
    answer = session.post(url, json=body, timeout=30)
    if answer.status_code >= 300:
        raise RuntimeError(f"flow {name!r}: Workflows answered {answer.status_code} starting {workflow}: {answer.text[:300]}")
    execution = answer.json().get("name")
    if not isinstance(execution, str):
        raise RuntimeError(f"flow {name!r}: Workflows' answer names no execution: {answer.text[:300]}")
    return execution
