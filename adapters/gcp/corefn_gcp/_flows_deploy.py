"""The app's flows in ``deploy.sh``: each compiled workflow (:mod:`corefn_gcp.flows`) deployed with
its own service account, which may invoke only that flow's step functions (``roles/run.invoker``
on each, https://cloud.google.com/workflows/docs/authentication#invoke-private-functions); the
function a flow's trigger runs gets ``roles/workflows.invoker`` on that one workflow, to start
executions (https://cloud.google.com/workflows/docs/access-control), and the workflow's resource
name in ``COREFN_FLOW_<NAME>`` (read by :mod:`corefn_gcp.flowstart`).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from corefn_gcp._infra import Grant, account_id

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.flows.spec import FlowSpec
    from corefn_gcp._infra import Infra
    from corefn_gcp.generator import Function


def flow_env(flow: str) -> str:
    from corefn_gcp.flowstart import flow_setting

    return flow_setting(flow)


def flow_account(app: App, flow: FlowSpec) -> str:
    from corefn_gcp.flows import workflow_name

    return account_id(f"wf-{workflow_name(app.name, flow)}")


def step_functions(app: App, flow: FlowSpec, functions: list[Function]) -> list[str]:
    handlers = {task.handler for task in flow.tasks()}
    return sorted({fn.name for fn in functions if fn.spec.name in handlers})


def starters(app: App, flow: FlowSpec, functions: list[Function]) -> list[Function]:
    """The functions a trigger applied to the flow runs (their handler is the flow's starter)."""
    return [fn for fn in functions if getattr(fn.spec.handler, "flow", None) == flow.name]


def flow_lines(app: App, functions: list[Function], resources: Infra) -> list[str]:
    from corefn_gcp._script import grant_line, member
    from corefn_gcp.flows import deploy_command, workflow_name

    lines: list[str] = []
    for flow in app.flows:
        name = workflow_name(app.name, flow)
        account = flow_account(app, flow)
        lines += ["", f"# flow {flow.name!r}: a workflow that may call only its own steps"]
        lines.append(f"ensure_account {account} {shlex.quote(f'corefn {app.name}: workflow {flow.name}')}")
        for step in step_functions(app, flow, functions):
            lines.append(f'retry gcloud functions add-invoker-policy-binding {step} --region="$REGION" {member(f"$(sa {account})")}')
        lines.append(deploy_command(app.name, flow, f"workflows/{name}.yaml", f'"$(sa {account})"'))
        # Workflows has no resource-level IAM policy: a project binding with a condition on the one workflow
        # (https://cloud.google.com/iam/docs/conditions-resource-attributes#workflows)
        condition = f'resource.name=="projects/$PROJECT/locations/$REGION/workflows/{name}"'
        for fn in starters(app, flow, functions):
            grant = Grant("roles/workflows.invoker", "project", name, condition)
            lines.append(grant_line(grant, f"$(sa {resources.identities[fn.spec.name].account_id})"))
    return lines


def flow_project_grants(app: App, functions: list[Function], resources: Infra) -> list[tuple[str, str]]:
    """(account id, role) of the project bindings :func:`flow_lines` adds (teardown removes them)."""
    return [(resources.identities[fn.spec.name].account_id, "roles/workflows.invoker") for flow in app.flows for fn in starters(app, flow, functions)]


def flow_teardown(app: App, resources: Infra) -> list[str]:
    from corefn_gcp.flows import workflow_name

    lines: list[str] = []
    for flow in app.flows:
        name = workflow_name(app.name, flow)
        lines.append(f'gone gcloud workflows describe {name} --location="$REGION" || gcloud workflows delete {name} --location="$REGION"')
        lines.append(f'gone gcloud iam service-accounts describe "$(sa {flow_account(app, flow)})" || '
                     f'gcloud iam service-accounts delete "$(sa {flow_account(app, flow)})"')  # fmt: skip
    return lines
