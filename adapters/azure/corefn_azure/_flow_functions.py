"""The app's flows in the generated Azure Functions project: what :mod:`corefn_azure.generator`
and the ARM template add when ``app.flows`` is not empty (a one-line call at each place).

- ``function_app.py`` has two modes, chosen at import by the app's ``COREFN_DURABLE`` setting
  (:func:`corefn_azure._flow_start.is_durable_app`). ``1``: the app is a ``df.DFApp`` (a
  ``FunctionApp`` that also knows the orchestration, activity and durable client bindings) with
  every function: the handlers', each function of a trigger applied to a flow with a durable
  client binding through which it starts the flow (:func:`corefn_azure._flow_start.start_flows`),
  then the flows' orchestrators and activities (:mod:`corefn_azure.flows`). ``0``: a plain
  ``func.FunctionApp`` with the other handlers' functions only, and no import of
  ``azure.durable_functions`` (about 150 ms of cold start on every instance of every app
  otherwise, more on a busy host: ``benchmarks/azure_flow_cold_start.py``). Each mode's functions are defined at module level under ``if DURABLE:``, so the
  Python worker's indexing (one app object at top level; ``typing.get_type_hints`` of each
  function) resolves every annotation in both.
- ``COREFN_DURABLE`` is ``1`` in the ``flows`` app and in the apps of the flows' triggers, ``0``
  in the others (``azuredeploy.json``), ``1`` under ``func start`` (one host runs everything).
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
from corefn_azure._flow_start import DURABLE_SETTING

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
    """corefn's import lines of ``function_app.py`` that every mode needs (the mode's reader)."""
    return ["from corefn_azure._flow_start import is_durable_app"] if app.flows else []


def app_lines(app: App) -> list[str]:
    """The ``app`` object: a ``df.DFApp`` in the Durable mode, importing Durable only then."""
    plain = "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)"
    if not app.flows:
        return [plain]
    return [
        f"#: the flow functions run where {DURABLE_SETTING} is 1 (the flows app, the apps of the flows' triggers):",
        "#: only those apps import Durable Functions, a cold start cost the others do not pay",
        "DURABLE = is_durable_app()",
        "",
        "if DURABLE:",
        "    import azure.durable_functions as df",
        "",
        "    from corefn.loader import load_app",
        "    from corefn_azure import durable",
        "    from corefn_azure._flow_start import start_flows",
        "",
        "    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)",
        "else:",
        f"    {plain}",
    ]


def is_starter(app: App, fn: FunctionPlan) -> bool:
    return fn.handler in starter_names(app)


def starter_lines(app: App, fn: FunctionPlan, shape: str) -> list[str]:
    """The function of a trigger applied to a flow, with its durable client. ``async``: the
    client's ``start_new`` is a coroutine."""
    from corefn_azure.generator import DEAD_LETTERING

    returns = "" if fn.returns == "None" else "return "
    dead = ", dead_letter=True" if fn.service in DEAD_LETTERING else ""  # Event Hubs / Cosmos DB: see _flow_start
    return [
        f"@app.function_name(name={json.dumps(fn.name)})",
        *fn.decorator.split("\n"),
        f'@app.durable_client_input(client_name="{CLIENT}")',
        f"async def {fn.name}({fn.arg}: {fn.annotation}, context: func.Context, {CLIENT}: df.DurableOrchestrationClient) -> {fn.returns}:",
        f"    {returns}await start_flows(APP, {json.dumps(fn.handler)}, {fn.arg}, context, {json.dumps(shape)}, {CLIENT}{dead})",
    ]


def durable_lines(app: App, functions: list[FunctionPlan], shapes: dict[str, str]) -> list[str]:
    """The Durable mode's functions, under ``if DURABLE:``: the flows' starters, then the
    orchestrators and activities (nothing for an app without flows)."""
    if not app.flows:
        return []
    body: list[str] = []
    for fn in functions:
        if is_starter(app, fn):
            body += ["", *starter_lines(app, fn, shapes[fn.service])]
    for line in function_lines(app):  # two blank lines between top-level functions, one here
        if line or body[-1:] != [""]:
            body.append(line)
    block = "if DURABLE:  # the flows' triggers (each with a durable client), their activities and orchestrators"
    return ["", "", block, *(f"    {line}" if line else "" for line in body)]


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


def needs_durable(app: App, functions: list[FunctionPlan]) -> bool:
    """Whether a function app running ``functions`` runs an orchestrator or activity or starts a flow."""
    return any(fn.service in FLOW_SERVICES or is_starter(app, fn) for fn in functions)


def arm_settings(app: App, functions: list[FunctionPlan]) -> dict[str, str]:
    """Every app's task hub setting (all apps of a stage share the hub; see the module docstring)
    and whether it runs Durable functions (``COREFN_DURABLE``) for the app running ``functions``."""
    if not app.flows:
        return {}
    return {TASK_HUB_SETTING: "[concat('flows', variables('suffix'))]", DURABLE_SETTING: "1" if needs_durable(app, functions) else "0"}


def local_settings(app: App) -> dict[str, str]:
    """``func start`` runs every function in one host: the Durable mode."""
    return {TASK_HUB_SETTING: LOCAL_TASK_HUB, DURABLE_SETTING: "1"} if app.flows else {}


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
        "starts the orchestration through its Durable client. Only the apps that run or start flows import Durable",
        f"Functions (`{DURABLE_SETTING}` 1: the `{FLOW_GROUP}` app and the trigger's app); the others (0) define only their",
        "handlers' functions and skip its cold start cost. Nothing stops a run that exceeds the flow's timeout:",
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


__all__ = ["readme_lines", "FLOW_GROUP", "FLOW_SERVICES", "TASK_HUB_SETTING", "app_lines", "arm_settings", "durable_lines", "function_lines", "host_extensions", "imports", "is_starter", "local_settings", "needs_durable", "plans", "requirements", "starter_lines"]
