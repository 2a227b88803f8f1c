"""The app's flows in the generated Azure Functions project: what :mod:`corefn_azure.generator`
and the ARM template add when ``app.flows`` is not empty (a one-line call at each place).

- ``function_app.py``: the app becomes a ``df.DFApp`` (a ``FunctionApp`` that also knows the
  orchestration, activity and durable client bindings); the flows' orchestrators and activities
  (:mod:`corefn_azure.flows`) follow the handlers' functions; each function of a trigger applied
  to a flow gets a durable client binding and starts the flow through it
  (:func:`corefn_azure._flow_start.start_flows`).
- The flows' functions run in a function app of their own (``flows``), whose identity gets the
  roles of every step handler (steps are activities there); the other apps disable them, as they
  disable every function that is not theirs (:mod:`corefn_azure._roles`).
- One task hub for the stage, named by the ``COREFN_TASK_HUB`` setting of every app
  (``host.json`` ``extensions.durableTask.hubName: "%COREFN_TASK_HUB%"``): the starters' clients
  and the flows app must use the same hub in the same storage account, and another stage's apps a
  different one (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-task-hubs:
  names are 3-45 letters and digits, starting with a letter). The hub lives in the runtime storage
  account (``AzureWebJobsStorage``), whose blob, queue and table data roles every app's identity
  already holds (``HOST_ROLES``): what the Azure Storage provider needs for an identity-based
  connection, which the Durable extension takes since v2.7.0 (the extension bundle [4.*, 5.0.0)
  carries a later one; https://github.com/Azure/azure-functions-durable-extension/releases/tag/v2.7.0).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App
    from corefn_azure.generator import FunctionPlan

#: the function app that runs every orchestrator and activity
FLOW_GROUP = "flows"
#: FunctionPlan.service of the flows' functions
FLOW_SERVICES = frozenset({"activity", "orchestration"})
TASK_HUB_SETTING = "COREFN_TASK_HUB"
#: the task hub under ``func start`` (Azurite): a stage's is ``flows<uniqueString>`` (see _arm_apps)
LOCAL_TASK_HUB = "corefnflows"
CLIENT = "client"


def starter_names(app: App) -> dict[str, str]:
    """Handler → flow, for the functions that start flows."""
    from corefn.flows.deploying import starters

    return starters(app)


def imports(app: App) -> list[str]:
    """Extra import lines of ``function_app.py``: the third-party one first, then corefn's."""
    if not app.flows:
        return []
    return ["import azure.durable_functions as df", "from corefn.loader import load_app", "from corefn_azure import durable",
            "from corefn_azure._flow_start import start_flows"]  # fmt: skip


def app_class(app: App) -> str:
    return "df.DFApp" if app.flows else "func.FunctionApp"


def starter_lines(app: App, fn: FunctionPlan, shape: str) -> list[str] | None:
    """The function of a trigger applied to a flow, with its durable client (None for others).
    ``async``: the client's ``start_new`` is a coroutine."""
    if fn.handler not in starter_names(app):
        return None
    from corefn_azure.generator import DEAD_LETTERING

    returns = "" if fn.returns == "None" else "return "
    dead = ", dead_letter=True" if fn.service in DEAD_LETTERING else ""  # Event Hubs / Cosmos DB: see _flow_start
    return [
        f"@app.function_name(name={json.dumps(fn.name)})",
        fn.decorator,
        f'@app.durable_client_input(client_name="{CLIENT}")',
        f"async def {fn.name}({fn.arg}: {fn.annotation}, context: func.Context, {CLIENT}: df.DurableOrchestrationClient) -> {fn.returns}:",
        f"    {returns}await start_flows(APP, {json.dumps(fn.handler)}, {fn.arg}, context, {json.dumps(shape)}, {CLIENT}{dead})",
    ]


def function_lines(app: App) -> list[str]:
    """The orchestrators and activities (:func:`corefn_azure.flows.functions_code`)."""
    from corefn_azure.flows import functions_code
    from corefn_azure.generator import function_name

    taken = {function_name(spec.name): spec.name for spec in app.handlers if spec.kind != "invoke"}
    for plan in plans(app):
        if plan.name in taken:  # Azure indexes one function per name: the host would refuse the app
            raise ConfigurationError(f"handler {taken[plan.name]!r} and a flow's {plan.service} are both Azure function {plan.name!r}; rename the handler")
    code = functions_code(app)
    return code.rstrip("\n").split("\n") if code else []


def plans(app: App) -> list[FunctionPlan]:
    """The flows' functions as plans for the ARM template (grouped in :data:`FLOW_GROUP`). An
    orchestrator runs no handler: it is planned with its flow's first step, so the group's specs
    (roles, memory) stay its steps'."""
    from corefn_azure.durable import activity_name, branch_name, orchestrator_name
    from corefn_azure.flows import step_handlers
    from corefn_azure.generator import FunctionPlan

    out = [FunctionPlan(activity_name(h), h, '@app.activity_trigger(input_name="payload")', "payload", "Any", "Any", "activity") for h in step_handlers(app)]
    for flow in app.flows:
        tasks = flow.tasks()
        if not tasks:
            raise ConfigurationError(f"flow {flow.name!r} calls no handler: an orchestrator has nothing to run; add a step")
        first = tasks[0].handler
        for name in (orchestrator_name(flow.name), branch_name(flow.name)):
            out.append(FunctionPlan(name, first, '@app.orchestration_trigger(context_name="context")', "context", "df.DurableOrchestrationContext", "Any", "orchestration"))
    return out


def host_extensions(app: App) -> dict[str, Any]:
    return {"durableTask": {"hubName": f"%{TASK_HUB_SETTING}%"}} if app.flows else {}


def arm_settings(app: App) -> dict[str, str]:
    """Every app's task hub setting (all apps of a stage share the hub; see the module docstring)."""
    return {TASK_HUB_SETTING: "[concat('flows', variables('suffix'))]"} if app.flows else {}


def local_settings(app: App) -> dict[str, str]:
    return {TASK_HUB_SETTING: LOCAL_TASK_HUB} if app.flows else {}


def readme_lines(app: App) -> list[str]:
    """What the deployment's README says of the flows (nothing for an app without)."""
    if not app.flows:
        return []
    names = ", ".join(f"`{flow.name}`" for flow in app.flows)
    return [
        "",
        f"The flows ({names}) run in the `{FLOW_GROUP}` app: a Durable Functions orchestrator per flow and an activity",
        "per step handler, with the roles of every step. Their task hub lives in the runtime storage account, named",
        f"by every app's `{TASK_HUB_SETTING}` setting (one hub per stage); the function of a trigger applied to a flow",
        "starts the orchestration through its Durable client. Nothing stops a run that exceeds the flow's timeout:",
        "terminate it (`func durable terminate --id <instance>`, or the Durable HTTP API's terminate).",
    ]


def requirements(app: App) -> list[str]:
    """The ``azure-durable`` extra of corefn (azure-functions-durable) for an app with flows."""
    if not app.flows:
        return []
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires("corefn") or []
    except PackageNotFoundError:
        declared = []
    found = [line.partition(";")[0].strip() for line in declared if "extra" in line and line.split("extra", 1)[1].strip(" =\"'") == "azure-durable"]
    if not found:
        raise ConfigurationError("corefn's azure-durable extra (azure-functions-durable) is not declared: reinstall corefn")
    return found


__all__ = ["readme_lines", "FLOW_GROUP", "FLOW_SERVICES", "TASK_HUB_SETTING", "app_class", "arm_settings", "function_lines", "host_extensions", "imports", "local_settings", "plans", "requirements", "starter_lines"]
