"""``ctx.start_flow`` on Google Cloud: an execution of the flow's workflow, started through the
Workflows Executions REST API (``POST https://workflowexecutions.googleapis.com/v1/{workflow}/executions``
with ``{"argument": "<JSON text>"}``: https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create),
as the function's own service account (deploy.sh grants it ``roles/workflows.invoker`` on that
workflow only). google-auth is imported on the first start, not at cold start.

The workflow's resource name is in ``COREFN_FLOW_<NAME>`` (deploy.sh sets it on the functions a
trigger applied to the flow runs); without it, starting is a :class:`ConfigurationError` naming the
setting, never a local run. Workflows has no idempotency key: ``key`` is passed as the
execution's ``corefn-key`` label value (hashed to Workflows' label rules), so a duplicate start of a
redelivered event is visible, not prevented (the flow's steps are idempotent handlers).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App

ENDPOINT = "https://workflowexecutions.googleapis.com/v1"
#: tests point this at a local server (no Workflows emulator exists)
ENDPOINT_ENV = "COREFN_WORKFLOWS_ENDPOINT"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
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


def start_flow(app: App, name: str, data: Any, key: str | None) -> str:
    """Start one execution and return its resource name (``projects/…/executions/ID``)."""
    setting = flow_setting(name)
    workflow = os.environ.get(setting)
    if not workflow:
        raise ConfigurationError(f"flow {name!r} has no workflow: set {setting} to projects/PROJECT/locations/REGION/workflows/NAME "
                                 "(deploy.sh sets it on the functions that start the flow)")  # fmt: skip
    body: dict[str, Any] = {"argument": json.dumps(data)}
    if key is not None:
        body["labels"] = {"corefn-key": hashlib.sha256(key.encode()).hexdigest()[:63]}
    url = f"{os.environ.get(ENDPOINT_ENV) or ENDPOINT}/{workflow}/executions"
    answer = _authorized().post(url, json=body, timeout=30)
    if answer.status_code >= 300:
        raise RuntimeError(f"flow {name!r}: Workflows answered {answer.status_code} starting {workflow}: {answer.text[:300]}")
    execution = answer.json().get("name")
    if not isinstance(execution, str):
        raise RuntimeError(f"flow {name!r}: Workflows' answer names no execution: {answer.text[:300]}")
    return execution
