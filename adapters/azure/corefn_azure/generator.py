"""Writes an Azure Functions app (Python v2 programming model) for a corefn App.

Files: ``function_app.py`` (one decorated function per declared handler, each calling
:func:`corefn_azure.runtime.run` with the shape its binding object is read with), ``host.json``, ``requirements.txt`` and
``local.settings.json.example``. Generation is pure: a plan of :class:`FunctionPlan` values first,
text last, and the same app always gives the same files.

Per-handler choices come from the ``azure`` provider options (``Options.provider["azure"]``, or the
app's ``defaults`` for app-wide ones):

- storage: ``storage_trigger`` ``"blob"`` (``@app.blob_trigger``, path ``<container>/<prefix>{name}<suffix>``;
  the default when only ``created`` is wanted) or ``"eventgrid"`` (``@app.event_grid_trigger``; the
  default otherwise, since only Event Grid reports deletes; the Event Grid subscription and its
  subject filter are created at deploy time).
- queue: ``service`` ``"storage"`` (Queue Storage, default) or ``"servicebus"``; topics are Service
  Bus topic subscriptions (subscription = the declared one, else the handler's name). ``ordered``
  turns on Service Bus sessions.
- ``connection``: the app-setting name holding the connection (defaults: ``CorefnStorage``, the data account,
  ``ServiceBusConnection``, ``EventHubConnection``, ``CosmosDBConnection``); ``queue_name``,
  ``container``, ``database`` (Cosmos DB; default the app name), ``consumer_group``,
  ``auth_level`` (HTTP; default ``ANONYMOUS``: corefn checks its own API key), ``partition_key``.
- Event Hubs and Cosmos DB functions get ``@app.retry`` (exponential backoff, ``max_attempts - 1``
  retries): without a retry policy those triggers move their checkpoint past a failed batch.
- app-wide ``plan`` (``consumption`` by default, ``flex``, ``premium``, ``dedicated``) decides timer
  time zones (see :mod:`corefn_azure._schedule`).

Retries: ``host.json`` sets ``extensions.queues.maxDequeueCount`` explicitly (``max_attempts`` or
Queue Storage's own default of 5:
https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-storage-queue#host-json).
After that many failed deliveries Queue Storage moves the message to ``<queue>-poison`` and the
blob trigger writes to ``webjobs-blobtrigger-poison``. It is one setting per app, so queue and
blob handlers that ask for different ``max_attempts`` are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.loader import bundled_ref
from corefn_azure._schedule import PLANS, TZ_PLANS, to_ncrontab, to_utc

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

DEFAULT_MAX_ATTEMPTS = 5
EXTENSION_BUNDLE = {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
#: the app's data lives in its own storage account, apart from the host's (AzureWebJobsStorage):
#: the host's account-wide roles must not reach it (see corefn_azure._arm)
CONNECTIONS = {"storage": "CorefnStorage", "servicebus": "ServiceBusConnection", "eventhub": "EventHubConnection", "cosmos": "CosmosDBConnection"}
BINDING_TYPES = {
    "http": "func.HttpRequest", "blob": "func.InputStream", "eventgrid": "func.EventGridEvent",
    "queue": "func.QueueMessage", "servicebus": "func.ServiceBusMessage", "timer": "func.TimerRequest",
    "eventhub": "func.EventHubEvent", "cosmos": "func.DocumentList",
}  # fmt: skip
#: service → the corefn_azure shape its binding object is read with: the generated function knows
#: its trigger, so it names the shape instead of having it detected
BINDING_SHAPES = {
    "http": "http-request", "blob": "blob-stream", "eventgrid": "eventgrid-object", "queue": "queue-message",
    "servicebus": "servicebus-message", "timer": "timer-request", "eventhub": "eventhub-event", "cosmos": "document-list",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FunctionPlan:
    """One generated function: its Azure name, the handler it serves, its decorator call, the
    binding argument's name and annotation, and whether it returns an HTTP response."""

    name: str
    handler: str
    decorator: str
    arg: str
    annotation: str
    returns: str
    service: str


def _py(value: Any) -> str:
    """A literal for generated code: strings and lists of them in JSON quotes, the rest as repr."""
    return json.dumps(value) if isinstance(value, (str, list)) else repr(value)


def _call(name: str, **kwargs: Any) -> str:
    return f"@app.{name}(" + ", ".join(f"{k}={v if k == 'auth_level' else _py(v)}" for k, v in kwargs.items() if v is not None) + ")"


def function_name(handler: str) -> str:
    """Azure function names are letters, digits, ``_`` and ``-``, starting with a letter; the
    Python function gets the same name with ``-`` as ``_``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", handler)
    return name if name[:1].isalpha() else f"fn_{name}"


def azure_route(route: str) -> str:
    """``/files/{path+}`` → ``files/{*path}``: Azure's catch-all syntax, no leading slash."""
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\+\}", r"{*\1}", route).lstrip("/")


def retry_policy(app: App, spec: HandlerSpec) -> str:
    """Event Hubs and Cosmos DB triggers checkpoint past a failed batch unless the function has
    a retry policy (Azure Functions "retry policies"): the compiled policy's ``retry`` fields
    (:mod:`corefn_azure.policy`), so a failure is retried in order, not skipped at once."""
    from corefn.policy import retry_policy as portable
    from corefn_azure.policy import compile_policy

    retry = dict(compile_policy(app, portable(app, spec)).settings["retry"])
    return _call("retry", **{**retry, "max_retry_count": str(retry["max_retry_count"])})


def plan_function(app: App, spec: HandlerSpec, plan: str) -> FunctionPlan:
    opts = {**app.defaults.provider.get("azure", {}), **spec.options.provider.get("azure", {})}
    kind, trigger = spec.kind, spec.trigger
    name = function_name(spec.name)

    def make(service: str, decorator: str, arg: str, returns: str = "None") -> FunctionPlan:
        return FunctionPlan(name, spec.name, decorator, arg, BINDING_TYPES[service], returns, service)

    def connection(service: str) -> str:
        return str(opts.get("connection", CONNECTIONS[service]))

    if kind == "http":
        methods = None if "*" in trigger.methods else sorted(set(trigger.methods) | ({"OPTIONS"} if app.cors else set()))  # type: ignore[attr-defined]
        level_name = str(opts.get("auth_level", "anonymous")).upper()
        if level_name not in ("ANONYMOUS", "FUNCTION", "ADMIN"):
            raise ConfigurationError(f"handler {spec.name!r}: azure auth_level must be anonymous, function or admin")
        level = f"func.AuthLevel.{level_name}"
        deco = _call("route", route=azure_route(trigger.route), methods=methods, auth_level=level)  # type: ignore[attr-defined]
        return make("http", deco, "req", "func.HttpResponse")
    if kind == "storage":
        wanted = opts.get("storage_trigger") or ("blob" if trigger.operations == ("created",) else "eventgrid")  # type: ignore[attr-defined]
        if wanted == "eventgrid":
            return make("eventgrid", _call("event_grid_trigger", arg_name="event"), "event")
        if wanted != "blob":
            raise ConfigurationError(f"handler {spec.name!r}: azure storage_trigger must be 'blob' or 'eventgrid'")
        if trigger.operations != ("created",):  # type: ignore[attr-defined]
            raise ConfigurationError(f"handler {spec.name!r}: the blob trigger only reports created blobs; use storage_trigger='eventgrid'")
        container = opts.get("container", trigger.bucket)  # type: ignore[attr-defined]
        path = f"{container}/{trigger.prefix}{{name}}{trigger.suffix}"  # type: ignore[attr-defined]
        # Flex Consumption runs only the Event Grid based blob trigger (no container polling):
        # https://learn.microsoft.com/en-us/azure/azure-functions/functions-event-grid-blob-trigger
        return make("blob", _call("blob_trigger", arg_name="blob", path=path, connection=connection("storage"), source="EventGrid"), "blob")
    if kind == "queue" and opts.get("service", "storage") == "storage":
        queue = opts.get("queue_name", trigger.queue)  # type: ignore[attr-defined]
        return make("queue", _call("queue_trigger", arg_name="msg", queue_name=queue, connection=connection("storage")), "msg")
    if kind in ("queue", "topic"):
        common: dict[str, Any] = {"arg_name": "msg", "connection": connection("servicebus")}
        if spec.options.ordered:
            common["is_sessions_enabled"] = True
        if spec.batch:
            common["cardinality"] = "many"
        if kind == "queue":
            deco = _call("service_bus_queue_trigger", queue_name=opts.get("queue_name", trigger.queue), **common)  # type: ignore[attr-defined]
        else:
            sub = getattr(trigger, "subscription", None) or spec.name
            deco = _call("service_bus_topic_trigger", topic_name=opts.get("topic_name", trigger.topic), subscription_name=sub, **common)  # type: ignore[attr-defined]
        plan_ = make("servicebus", deco, "msg")
        return plan_ if not spec.batch else FunctionPlan(**{**_fields(plan_), "annotation": "list[func.ServiceBusMessage]"})
    if kind == "timer":
        schedule, tz = trigger.schedule, trigger.tz  # type: ignore[attr-defined]
        if tz != "UTC" and plan not in TZ_PLANS:
            schedule = to_utc(schedule, tz)
        return make("timer", retry_policy(app, spec) + "\n" + _call("timer_trigger", arg_name="timer", schedule=to_ncrontab(schedule)), "timer")
    if kind == "stream":
        many = "many" if spec.batch else "one"
        deco = _call("event_hub_message_trigger", arg_name="events" if spec.batch else "event", connection=connection("eventhub"),
                     event_hub_name=opts.get("event_hub_name", trigger.stream), cardinality=many,  # type: ignore[attr-defined]
                     consumer_group=opts.get("consumer_group"))  # fmt: skip
        plan_ = make("eventhub", retry_policy(app, spec) + "\n" + deco, "events" if spec.batch else "event")
        return plan_ if not spec.batch else FunctionPlan(**{**_fields(plan_), "annotation": "list[func.EventHubEvent]"})
    if kind == "nosql":
        deco = _call("cosmos_db_trigger", arg_name="documents", connection=connection("cosmos"),
                     database_name=opts.get("database", app.name), container_name=opts.get("container", trigger.table),  # type: ignore[attr-defined]
                     lease_container_name=opts.get("lease_container", "leases"), create_lease_container_if_not_exists=True)  # fmt: skip
        return make("cosmos", retry_policy(app, spec) + "\n" + deco, "documents")
    raise ConfigurationError(f"handler {spec.name!r}: Azure Functions has no trigger for {kind} handlers (use an HTTP route)")


def _fields(plan: FunctionPlan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in FunctionPlan.__dataclass_fields__}


def plan_app(app: App) -> tuple[list[FunctionPlan], str]:
    plan = str(app.defaults.provider.get("azure", {}).get("plan", "flex"))
    if plan not in PLANS:
        raise ConfigurationError(f"azure plan must be one of {', '.join(sorted(PLANS))}, got {plan!r}")
    specs = [s for s in app.handlers if s.kind != "invoke"]
    functions = [plan_function(app, spec, plan) for spec in specs]
    names = [f.name for f in functions]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"handler names collide as Azure function names: {sorted(names)}")
    return functions, plan


# ------------------------------------------------------------------------------------ files


def function_app_py(app: App, app_ref: str, functions: list[FunctionPlan]) -> str:
    lines = [
        f'"""Azure Functions entry point for the corefn app {app.name!r} ({app_ref}).',
        "",
        "Generated by corefn: do not edit. Each function hands its binding object and the shape its trigger",
        "delivers to corefn_azure.runtime.run, which runs the portable handler; a failed message raises, so",
        'the host retries and poisons it; a failed HTTP handler answers 500."""',
        "",
        "import os",
        "",
        "import azure.functions as func",
        "",
        "from corefn_azure.runtime import run",
        *(["from corefn_azure.deadletter import run as run_dead_lettering"] if any(f.service in DEAD_LETTERING for f in functions) else []),
        "",
        f"APP = os.environ.get(\"COREFN_APP\", {json.dumps(bundled_ref(app_ref))})",
        "",
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)",
    ]
    for fn in functions:
        lines += [
            "",
            "",
            f"@app.function_name(name={json.dumps(fn.name)})",
            fn.decorator,
            f"def {fn.name}({fn.arg}: {fn.annotation}, context: func.Context) -> {fn.returns}:",
            f"    {'return ' if fn.returns != 'None' else ''}{'run_dead_lettering' if fn.service in DEAD_LETTERING else 'run'}(APP, {json.dumps(fn.handler)}, {fn.arg}, context, {json.dumps(BINDING_SHAPES[fn.service])})",
        ]
    return "\n".join(lines) + "\n"


def _one_setting(app: App, functions: list[FunctionPlan], services: set[str], read: str, default: int | None) -> int | None:
    """One host.json value for every function of ``services``, from the handlers' options."""
    handlers = {f.handler for f in functions if f.service in services}
    values = {getattr(s.options, read) for s in app.handlers if s.name in handlers and getattr(s.options, read) is not None}
    if len(values) > 1:
        raise ConfigurationError(f"Azure sets {read} once per function app, but handlers ask for {sorted(values)}")
    return values.pop() if values else default


def host_json(app: App, functions: list[FunctionPlan]) -> dict[str, Any]:
    services = {f.service for f in functions}
    extensions: dict[str, Any] = {"http": {"routePrefix": ""}}
    if services & {"queue", "blob"}:
        attempts = _one_setting(app, functions, {"queue", "blob"}, "max_attempts", DEFAULT_MAX_ATTEMPTS)
        if attempts == 0:  # until expiry: the compiled policy's count (corefn_azure.policy)
            from corefn_azure.policy import UNTIL_EXPIRY_DEQUEUES

            attempts = UNTIL_EXPIRY_DEQUEUES
        queues: dict[str, Any] = {"maxDequeueCount": attempts, "messageEncoding": "base64"}
        batch = _one_setting(app, functions, {"queue"}, "batch_size", None)
        if batch is not None:
            queues["batchSize"] = min(batch, 32)
        extensions["queues"] = queues
    if "eventhub" in services:
        batch = _one_setting(app, functions, {"eventhub"}, "batch_size", None)
        extensions["eventHubs"] = {"maxEventBatchSize": batch or 100}
    if "servicebus" in services:
        batch = _one_setting(app, functions, {"servicebus"}, "batch_size", None)
        extensions["serviceBus"] = {"maxMessageBatchSize": batch or 1000}
    out: dict[str, Any] = {"version": "2.0", "extensionBundle": EXTENSION_BUNDLE, "extensions": extensions}
    timeouts = [s.options.timeout for s in app.handlers if s.options.timeout]
    if timeouts:
        seconds = int(max(timeouts))
        out["functionTimeout"] = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return out


def local_settings(app: App, app_ref: str, functions: list[FunctionPlan], plan: str) -> dict[str, Any]:
    values: dict[str, str] = {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        CONNECTIONS["storage"]: "UseDevelopmentStorage=true",
        "COREFN_APP": bundled_ref(app_ref),
    }
    for fn in functions:
        match = re.search(r'connection="([^"]+)"', fn.decorator)
        if match and match[1] not in values:
            values[match[1]] = ""
    zones = {s.trigger.tz for s in app.handlers if s.kind == "timer" and s.trigger.tz != "UTC"}  # type: ignore[attr-defined]
    if zones and plan in TZ_PLANS:
        if len(zones) > 1:
            raise ConfigurationError(f"WEBSITE_TIME_ZONE is one zone per app; timers ask for {sorted(zones)}")
        values["WEBSITE_TIME_ZONE"] = zones.pop()
    if app.handlers_of("http") and any(s.options.api_key for s in app.handlers):
        values[app.api_key_env] = ""
    for sink in app.sinks:
        values[sink.env_var] = ""
    return {"IsEncrypted": False, "Values": values}


#: triggers Azure has no dead letter for: corefn writes the records itself (corefn_azure.deadletter)
DEAD_LETTERING = frozenset({"eventhub", "cosmos"})
#: Flex Consumption's Python stack (https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan)
RUNTIME = "python3.12"


def requirements(app: App, app_ref: str) -> str:
    """What the remote build installs: third-party packages only, pinned from
    ``deploy/locks/azure-python3.12.txt`` (corefn and the adapter are vendored beside it)."""
    from corefn.bundle import requirement_names
    from corefn.deploy_lock import lock_for, requirements_txt

    lock = lock_for("azure", RUNTIME)
    return requirements_txt(lock, requirement_names(app, app_ref, "azure"), f"{app.name} on Azure Functions Flex Consumption {RUNTIME}")


def _templates(app: App, app_ref: str, functions: list[FunctionPlan], plan: str) -> dict[str, str]:
    """The ARM templates (Flex Consumption only: the other plans keep the files above)."""
    from corefn_azure._arm import azuredeploy
    from corefn_azure._arm_eventgrid import eventgrid
    from corefn_azure._readme import readme

    if plan not in ("consumption", "flex"):
        return {}
    main = azuredeploy(app, functions, app_ref)
    second = eventgrid(app, functions)
    out = {"azuredeploy.json": json.dumps(main, indent=2) + "\n", "README.md": readme(app, app_ref, functions, main, second)}
    if second is not None:
        out["eventgrid.json"] = json.dumps(second, indent=2) + "\n"
    return out


def generate(app: App, app_ref: str) -> Mapping[str, str | bytes]:
    functions, plan = plan_app(app)
    files: dict[str, str | bytes] = {
        "function_app.py": function_app_py(app, app_ref, functions),
        "host.json": json.dumps(host_json(app, functions), indent=2) + "\n",
        "requirements.txt": requirements(app, app_ref),
        **_templates(app, app_ref, functions, plan),
        "local.settings.json.example": json.dumps(local_settings(app, app_ref, functions, plan), indent=2) + "\n",
    }
    from corefn_azure._auth import auth_settings

    settings, notes = auth_settings(app.handlers)
    if settings is not None:  # deploy: az deployment group create --template-file auth/authsettingsV2.json
        files["auth/authsettingsV2.json"] = json.dumps(settings, indent=2) + "\n"
    if notes:
        files["auth/NOTES.txt"] = "".join(f"{note}\n" for note in notes)
    return files
