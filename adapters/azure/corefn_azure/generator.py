"""Writes an Azure Functions app (Python v2 programming model) for a corefn App.

Files: ``function_app.py`` (one decorated function per declared handler, each calling
:func:`corefn_azure.runtime.run` with the shape its binding object is read with), ``host.json``, ``requirements.txt`` and
``local.settings.json.example``. Generation is pure: a plan of :class:`FunctionPlan` values first,
text last, and the same app always gives the same files. An app with flows gets one file with two
modes, picked at import by each function app's ``COREFN_DURABLE`` setting, so that only the apps
running or starting flows import Durable Functions (:mod:`corefn_azure._flow_functions`).

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from corefn.app import App
from corefn.errors import ConfigurationError
from corefn.loader import bundled_ref
from corefn.specs import (
    HandlerSpec,
    HttpTrigger,
    NoSqlTrigger,
    QueueTrigger,
    StorageTrigger,
    StreamTrigger,
    TimerTrigger,
    TopicTrigger,
    Trigger,
)
from corefn_azure import _flow_functions as flows
from corefn_azure._schedule import PLANS, TZ_PLANS, to_ncrontab, to_utc

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


class Handler(NamedTuple):
    """One handler being planned: the app, its declaration, its ``azure`` provider options (the
    app's defaults under the handler's own) and the app's hosting plan."""

    app: App
    spec: HandlerSpec
    opts: dict[str, Any]
    hosting: str

    def function(self, service: str, decorator: str, arg: str, returns: str = "None", annotation: str | None = None) -> FunctionPlan:
        return FunctionPlan(function_name(self.spec.name), self.spec.name, decorator, arg, annotation or BINDING_TYPES[service], returns, service)

    def connection(self, service: str) -> str:
        return str(self.opts.get("connection", CONNECTIONS[service]))


def _http(h: Handler, trigger: HttpTrigger) -> FunctionPlan:
    methods = None if "*" in trigger.methods else sorted(set(trigger.methods) | ({"OPTIONS"} if h.app.cors else set()))
    level_name = str(h.opts.get("auth_level", "anonymous")).upper()
    if level_name not in ("ANONYMOUS", "FUNCTION", "ADMIN"):
        raise ConfigurationError(f"handler {h.spec.name!r}: azure auth_level must be anonymous, function or admin")
    deco = _call("route", route=azure_route(trigger.route), methods=methods, auth_level=f"func.AuthLevel.{level_name}")
    return h.function("http", deco, "req", "func.HttpResponse")


def _storage(h: Handler, trigger: StorageTrigger) -> FunctionPlan:
    wanted = h.opts.get("storage_trigger") or ("blob" if trigger.operations == ("created",) else "eventgrid")
    if wanted == "eventgrid":
        return h.function("eventgrid", _call("event_grid_trigger", arg_name="event"), "event")
    if wanted != "blob":
        raise ConfigurationError(f"handler {h.spec.name!r}: azure storage_trigger must be 'blob' or 'eventgrid'")
    if trigger.operations != ("created",):
        raise ConfigurationError(f"handler {h.spec.name!r}: the blob trigger only reports created blobs; use storage_trigger='eventgrid'")
    container = h.opts.get("container", trigger.bucket)
    path = f"{container}/{trigger.prefix}{{name}}{trigger.suffix}"
    # Flex Consumption runs only the Event Grid based blob trigger (no container polling):
    # https://learn.microsoft.com/en-us/azure/azure-functions/functions-event-grid-blob-trigger
    return h.function("blob", _call("blob_trigger", arg_name="blob", path=path, connection=h.connection("storage"), source="EventGrid"), "blob")


def _service_bus(h: Handler, decorator: str, **names: Any) -> FunctionPlan:
    common: dict[str, Any] = {"arg_name": "msg", "connection": h.connection("servicebus")}
    if h.spec.options.ordered:
        common["is_sessions_enabled"] = True
    if h.spec.batch:
        common["cardinality"] = "many"
    annotation = "list[func.ServiceBusMessage]" if h.spec.batch else None
    return h.function("servicebus", _call(decorator, **names, **common), "msg", annotation=annotation)


def _queue(h: Handler, trigger: QueueTrigger) -> FunctionPlan:
    """Queue Storage by default; ``service="servicebus"`` for a Service Bus queue."""
    queue = h.opts.get("queue_name", trigger.queue)
    if h.opts.get("service", "storage") == "storage":
        return h.function("queue", _call("queue_trigger", arg_name="msg", queue_name=queue, connection=h.connection("storage")), "msg")
    return _service_bus(h, "service_bus_queue_trigger", queue_name=queue)


def _topic(h: Handler, trigger: TopicTrigger) -> FunctionPlan:
    """A Service Bus topic subscription: the declared one, else the handler's name."""
    topic = h.opts.get("topic_name", trigger.topic)
    return _service_bus(h, "service_bus_topic_trigger", topic_name=topic, subscription_name=trigger.subscription or h.spec.name)


def _timer(h: Handler, trigger: TimerTrigger) -> FunctionPlan:
    schedule = trigger.schedule if trigger.tz == "UTC" or h.hosting in TZ_PLANS else to_utc(trigger.schedule, trigger.tz)
    deco = retry_policy(h.app, h.spec) + "\n" + _call("timer_trigger", arg_name="timer", schedule=to_ncrontab(schedule))
    return h.function("timer", deco, "timer")


def _stream(h: Handler, trigger: StreamTrigger) -> FunctionPlan:
    batch = h.spec.batch
    deco = _call("event_hub_message_trigger", arg_name="events" if batch else "event", connection=h.connection("eventhub"),
                 event_hub_name=h.opts.get("event_hub_name", trigger.stream), cardinality="many" if batch else "one",
                 consumer_group=h.opts.get("consumer_group"))  # fmt: skip
    annotation = "list[func.EventHubEvent]" if batch else None
    return h.function("eventhub", retry_policy(h.app, h.spec) + "\n" + deco, "events" if batch else "event", annotation=annotation)


def _nosql(h: Handler, trigger: NoSqlTrigger) -> FunctionPlan:
    deco = _call("cosmos_db_trigger", arg_name="documents", connection=h.connection("cosmos"),
                 database_name=h.opts.get("database", h.app.name), container_name=h.opts.get("container", trigger.table),
                 lease_container_name=h.opts.get("lease_container", "leases"), create_lease_container_if_not_exists=True)  # fmt: skip
    return h.function("cosmos", retry_policy(h.app, h.spec) + "\n" + deco, "documents")


#: trigger declaration → the function planned for it (each planner takes its own trigger class,
#: so none needs narrowing). Invoke handlers get no function (Azure has no direct invoke of a
#: Python function); a trigger class missing here has no Azure trigger.
FUNCTIONS: dict[type[Trigger], Callable[[Handler, Any], FunctionPlan]] = {
    HttpTrigger: _http,
    StorageTrigger: _storage,
    QueueTrigger: _queue,
    TopicTrigger: _topic,
    TimerTrigger: _timer,
    StreamTrigger: _stream,
    NoSqlTrigger: _nosql,
}


def plan_function(app: App, spec: HandlerSpec, hosting: str) -> FunctionPlan:
    planner = FUNCTIONS.get(type(spec.trigger))
    if planner is None:
        raise ConfigurationError(f"handler {spec.name!r}: Azure Functions has no trigger for {spec.kind} handlers (use an HTTP route)")
    opts = {**app.defaults.provider.get("azure", {}), **spec.options.provider.get("azure", {})}
    return planner(Handler(app, spec, opts, hosting), spec.trigger)


class Plan(NamedTuple):
    """The app's Functions project: what :func:`render` writes files from."""

    app: App
    app_ref: str
    functions: list[FunctionPlan]
    hosting: str  # the app-wide plan: consumption, flex, premium or dedicated


def plan(app: App, app_ref: str) -> Plan:
    hosting = str(app.defaults.provider.get("azure", {}).get("plan", "flex"))
    if hosting not in PLANS:
        raise ConfigurationError(f"azure plan must be one of {', '.join(sorted(PLANS))}, got {hosting!r}")
    specs = [s for s in app.handlers if s.kind != "invoke"]
    functions = [plan_function(app, spec, hosting) for spec in specs]
    names = [f.name for f in functions]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"handler names collide as Azure function names: {sorted(names)}")
    return Plan(app, app_ref, functions, hosting)


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
        *flows.imports(app),  # an app with flows: the reader of its mode (Durable or not)
        "from corefn_azure.runtime import run",
        *(["from corefn_azure.deadletter import run as run_dead_lettering"] if any(f.service in DEAD_LETTERING and not flows.is_starter(app, f) for f in functions) else []),  # starters: start_flows
        "",
        f"APP = os.environ.get(\"COREFN_APP\", {json.dumps(bundled_ref(app_ref))})",
        "",
        *flows.app_lines(app),
    ]
    for fn in functions:
        if flows.is_starter(app, fn):  # a trigger applied to a flow: defined in the Durable mode only
            continue
        lines += ["", ""]
        lines += [
            f"@app.function_name(name={json.dumps(fn.name)})",
            fn.decorator,
            f"def {fn.name}({fn.arg}: {fn.annotation}, context: func.Context) -> {fn.returns}:",
            f"    {'return ' if fn.returns != 'None' else ''}{'run_dead_lettering' if fn.service in DEAD_LETTERING else 'run'}(APP, {json.dumps(fn.handler)}, {fn.arg}, context, {json.dumps(BINDING_SHAPES[fn.service])})",
        ]
    lines += flows.durable_lines(app, functions, BINDING_SHAPES)  # the starters, orchestrators and activities
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
    extensions.update(flows.host_extensions(app))
    out: dict[str, Any] = {"version": "2.0", "extensionBundle": EXTENSION_BUNDLE, "extensions": extensions}
    timeouts = [s.options.timeout for s in app.handlers if s.options.timeout]
    if timeouts:
        seconds = int(max(timeouts))
        out["functionTimeout"] = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return out


def local_settings(app: App, app_ref: str, functions: list[FunctionPlan], hosting: str) -> dict[str, Any]:
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
    zones = {s.trigger.tz for s in app.handlers if isinstance(s.trigger, TimerTrigger) and s.trigger.tz != "UTC"}
    if zones and hosting in TZ_PLANS:
        if len(zones) > 1:
            raise ConfigurationError(f"WEBSITE_TIME_ZONE is one zone per app; timers ask for {sorted(zones)}")
        values["WEBSITE_TIME_ZONE"] = zones.pop()
    if app.handlers_of("http") and any(s.options.api_key for s in app.handlers):
        values[app.api_key_env] = ""
    for sink in app.sinks:
        values[sink.env_var] = ""
    values.update(flows.local_settings(app))
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
    return requirements_txt(lock, requirement_names(app, app_ref, "azure") + flows.requirements(app), f"{app.name} on Azure Functions Flex Consumption {RUNTIME}")


def _templates(app: App, app_ref: str, functions: list[FunctionPlan], hosting: str) -> dict[str, str]:
    """The ARM templates (Flex Consumption only: the other plans keep the files above)."""
    from corefn_azure._arm import azuredeploy
    from corefn_azure._arm_eventgrid import eventgrid
    from corefn_azure._readme import readme

    if hosting not in ("consumption", "flex"):
        return {}
    functions = functions + flows.plans(app)  # the flows' orchestrators and activities: an app of their own
    main = azuredeploy(app, functions, app_ref)
    second = eventgrid(app, functions)
    out = {"azuredeploy.json": json.dumps(main, indent=2) + "\n", "README.md": readme(app, app_ref, functions, main, second)}
    if second is not None:
        out["eventgrid.json"] = json.dumps(second, indent=2) + "\n"
    return out


def render(plan: Plan) -> dict[str, str | bytes]:
    app, app_ref, functions, hosting = plan
    files: dict[str, str | bytes] = {
        "function_app.py": function_app_py(app, app_ref, functions),
        "host.json": json.dumps(host_json(app, functions), indent=2) + "\n",
        "requirements.txt": requirements(app, app_ref),
        **_templates(app, app_ref, functions, hosting),
        "local.settings.json.example": json.dumps(local_settings(app, app_ref, functions, hosting), indent=2) + "\n",
    }
    from corefn_azure._auth import auth_settings

    settings, notes = auth_settings(app.handlers)
    if settings is not None:  # deploy: az deployment group create --template-file auth/authsettingsV2.json
        files["auth/authsettingsV2.json"] = json.dumps(settings, indent=2) + "\n"
    if notes:
        files["auth/NOTES.txt"] = "".join(f"{note}\n" for note in notes)
    return files
