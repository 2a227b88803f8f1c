"""What ``corefn deploy --cloud openwhisk`` writes for Apache OpenWhisk: one Python action per
deployable unit, a wskdeploy ``manifest.yaml`` wiring them to triggers, per action a pinned
``requirements.txt``, and ``build.sh`` / ``deploy.sh`` / ``README.md`` (:mod:`._readme`). The
zips themselves are built by :mod:`corefn_openwhisk.build` from the bundle.

Actions (all of kind ``python:3.11``, code from ``build/<action>.zip``):

- one web action (``web``, or ``corefn-web`` when a handler is called ``web``) serving every HTTP
  route in raw HTTP mode (``web: raw``), so query and body arrive exactly as sent; corefn's
  router matches ``__ow_path``. Each route is also published through the API Gateway (``apis``);
- one action per other handler, pinned to it (``__corefn_handler``), with its trigger and rule:

  =======  ===========================================  ===========================================
  kind     how it is triggered                          inputs
  =======  ===========================================  ===========================================
  timer    ``/whisk.system/alarms/alarm``               ``cron``, ``timezone``, ``trigger_payload``
                                                        with corefn's markers (see :mod:`.timer`)
  storage  the object store's bucket notification       a raw web action; ``deploy.sh`` points a
           (MinIO-style webhook, :mod:`.storage`)       MinIO webhook target at its URL
  queue    ``/whisk.system/messaging/messageHubFeed``   the queue's Kafka topic; corefn counts
                                                        attempts (:mod:`.queue`)
  stream   ``/whisk.system/messaging/messageHubFeed``   ``topic``, binary key/value (see
                                                        :mod:`.stream`), credentials from env
  nosql    ``/whisk.system/cloudant/changes``           ``dbname``, credentials from env
  invoke   (none: invoked directly)
  =======  ===========================================  ===========================================

- ``warm=True`` adds an alarm every 5 minutes firing ``{"corefn": "warmup"}`` at the action.

Topic handlers have no Apache OpenWhisk trigger; they are listed in a comment at the top of the
manifest, not deployed. Each action's settings are bound ``__corefn_env_<NAME>`` parameters (the
runtime exports them as environment variables): the URLs of the sinks *its* handlers use, the API
key where a route asks for one, the webhook token of a storage action, the Kafka settings of a
queue action. Their values are wskdeploy ``$VARIABLE`` references, and ``deploy.sh`` refuses to
run wskdeploy while any of them is unset or empty (wskdeploy would bind ``""``). The manifest is
written by a small emitter (JSON-quoted scalars are valid YAML), so corefn needs no YAML library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from corefn.loader import bundled_ref
from corefn_openwhisk.build import PYTHON_VERSION
from corefn_openwhisk.runtime import ENV_PREFIX

if TYPE_CHECKING:
    from pathlib import Path

    from corefn.app import App
    from corefn.specs import HandlerSpec

RUNTIME = f"python:{PYTHON_VERSION}"
LOCK = f"python{PYTHON_VERSION}"
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FEEDS = {
    "timer": "/whisk.system/alarms/alarm",
    "queue": "/whisk.system/messaging/messageHubFeed",
    "stream": "/whisk.system/messaging/messageHubFeed",
    "nosql": "/whisk.system/cloudant/changes",
}
KAFKA_CREDENTIALS = {
    "kafka_brokers_sasl": "$KAFKA_BROKERS_SASL",
    "user": "$KAFKA_USER",
    "password": "$KAFKA_PASSWORD",
    "kafka_admin_url": "$KAFKA_ADMIN_URL",
}
CLOUDANT_CREDENTIALS = {"host": "$CLOUDANT_HOST", "iamApiKey": "$CLOUDANT_APIKEY"}
#: environment an action's code reads, by what it does → the deployer's variable bound to it
KAFKA_ENV = {"KAFKA_BROKERS": "$KAFKA_BROKERS", "KAFKA_SASL_USERNAME": "$KAFKA_USER", "KAFKA_SASL_PASSWORD": "$KAFKA_PASSWORD"}
FAMILY_ENV: dict[str, dict[str, str]] = {
    "object": {"COREFN_S3_ENDPOINT": "$COREFN_S3_ENDPOINT", "S3_ACCESS_KEY_ID": "$S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY": "$S3_SECRET_ACCESS_KEY"},
    "table": {"CLOUDANT_URL": "$CLOUDANT_URL", "CLOUDANT_AUTH_TYPE": "$CLOUDANT_AUTH_TYPE", "CLOUDANT_APIKEY": "$CLOUDANT_APIKEY"},
    "publisher": KAFKA_ENV,
}
WEBHOOK_ENV = {"COREFN_WEBHOOK_TOKEN": "$COREFN_WEBHOOK_TOKEN"}
#: a conductor sleeps its steps' retry back-offs: the default deployment's longest action time limit
CONDUCTOR_TIMEOUT_MS = 300_000


@dataclass
class ActionPlan:
    name: str
    handler: str | None  # None: the web action, serving every HTTP handler (or a flow's conductor)
    specs: list[HandlerSpec] = field(default_factory=list)
    flow: str | None = None  # a flow's conductor action (corefn_openwhisk.conductor)

    @property
    def is_web(self) -> bool:
        return self.handler is None and self.flow is None


class Plan(NamedTuple):
    """The app's deployment on OpenWhisk: what :func:`render` writes files from."""

    app: App
    app_ref: str
    actions: list[ActionPlan]
    skipped: list[str]


def plan(app: App, app_ref: str) -> Plan:
    from corefn.policy import compile_policies

    compile_policies(app, "openwhisk")  # a dead letter OpenWhisk cannot have fails here, not in the cloud
    return Plan(app, app_ref, *plan_actions(app))


def plan_actions(app: App) -> tuple[list[ActionPlan], list[str]]:
    """The actions to deploy, and the handlers OpenWhisk cannot trigger (reported, not dropped silently)."""
    actions: list[ActionPlan] = []
    skipped: list[str] = []
    names = {spec.name for spec in app.handlers}
    web = ActionPlan("corefn-web" if "web" in names else "web", None)
    for spec in app.handlers:
        if spec.kind == "http":
            web.specs.append(spec)
        elif spec.kind in FEEDS or spec.kind in ("invoke", "storage"):
            actions.append(ActionPlan(spec.name, spec.name, [spec]))
        else:
            skipped.append(f"{spec.kind} handler {spec.name!r}")
    from corefn_openwhisk.flows import check_conductor, conductor_name

    for flow in app.flows:
        check_conductor(flow)
        actions.append(ActionPlan(conductor_name(flow), None, flow=flow.name))
    return ([web] if web.specs else []) + actions, skipped


def render(plan: Plan) -> dict[str, str | bytes]:
    from corefn.deploy_lock import lock_for, requirements_txt
    from corefn_openwhisk._deps import KEEP_LINE, action_requirements, botocore_services
    from corefn_openwhisk._readme import build_script, deploy_script, readme

    app, app_ref, actions, skipped = plan
    ref = bundled_ref(app_ref)
    lock = lock_for("openwhisk", LOCK)
    files: dict[str, str | bytes] = {}
    for action in actions:
        files[f"actions/{action.name}/__main__.py"] = main_source(app, ref, action)
        wanted = action_requirements(app, app_ref, action.specs)
        text = requirements_txt(lock, wanted, f"action {action.name} of {app.name} on OpenWhisk {RUNTIME}")
        kept = botocore_services(app, app_ref, action.specs, wanted)
        files[f"actions/{action.name}/requirements.txt"] = text + (f"{KEEP_LINE} {', '.join(kept)}\n" if kept else "")
    text, variables = manifest(app, ref, actions, skipped)
    files["manifest.yaml"] = text
    files["build.sh"] = build_script(app)
    files["deploy.sh"] = deploy_script(app, actions, variables)
    files["README.md"] = readme(app, app_ref, actions, skipped, variables)
    return files


def main_source(app: App, ref: str, action: ActionPlan) -> str:
    if action.flow is not None:
        return (
            f'"""OpenWhisk conductor action {action.name!r} of app {app.name!r}: flow {action.flow!r}. Generated by corefn; do not edit."""\n\n'
            "from corefn_openwhisk.conductor import make_conductor\n\n"
            f"main = make_conductor({ref!r}, {action.flow!r})\n"
        )
    serves = "every HTTP route" if action.is_web else f"handler {action.handler!r}"
    return (
        f'"""OpenWhisk action {action.name!r} of app {app.name!r}: {serves}. Generated by corefn; do not edit."""\n\n'
        "from corefn_openwhisk.runtime import make_main\n\n"
        f"main = make_main({ref!r}, {action.handler!r})\n"
    )


# --------------------------------------------------------------------------- the manifest


def manifest(app: App, ref: str, actions: list[ActionPlan], skipped: list[str]) -> tuple[str, list[str]]:
    """The manifest's text and every deployer variable it references (``deploy.sh`` checks them)."""
    package: dict[str, Any] = {"version": "1.0", "actions": {}, "triggers": {}, "rules": {}}
    for action in actions:
        package["actions"][action.name] = _action(app, ref, action)
        for spec in action.specs:
            for trigger_name, trigger in _triggers(spec, action):
                package["triggers"][trigger_name] = trigger
                package["rules"][f"{trigger_name}-rule"] = {"trigger": trigger_name, "action": action.name}
    web = next((a for a in actions if a.is_web), None)
    if web is not None:
        package["apis"] = _apis(app, web)
    for key in ("triggers", "rules"):
        if not package[key]:
            del package[key]
    header = [
        f"# wskdeploy manifest for corefn app {app.name!r} on Apache OpenWhisk (generated; do not edit).",
        "# Deploy with ./deploy.sh: it checks every $VARIABLE below is set, builds the zips, runs wskdeploy",
        "# and points the object store's notifications at the storage actions (README.md).",
    ]
    header += [f"# NOT DEPLOYED (Apache OpenWhisk has no trigger for it): {s}" for s in skipped]
    doc = {"packages": {app.name: package}}
    return "\n".join(header) + "\n" + emit(doc), sorted(set(_variables(doc)))


def _variables(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [v for item in value.values() for v in _variables(item)]
    if isinstance(value, str) and value.startswith("$") and value[1:].replace("_", "").isalnum():
        return [value[1:]]
    return []


def _action(app: App, ref: str, action: ActionPlan) -> dict[str, Any]:
    out: dict[str, Any] = {"function": f"build/{action.name}.zip", "runtime": RUNTIME}
    if action.flow is not None:  # conductors.md: the annotation makes the controller loop on its continuations
        bound = {"__corefn_app": ref, "__corefn_flow": action.flow, **_env_inputs(app, action)}
        return {**out, "inputs": bound, "annotations": {"conductor": True}, "limits": {"timeout": CONDUCTOR_TIMEOUT_MS}}
    inputs: dict[str, Any] = {}
    kind = None if action.is_web else action.specs[0].kind
    if action.is_web or kind == "storage":
        out["web"] = "raw"  # storage: the bucket notification's webhook (see corefn_openwhisk.storage)
        if action.is_web and app.cors is not None:
            out["annotations"] = {"web-custom-options": True}  # corefn answers CORS preflights itself
    if any(type(spec.handler).__name__ == "FlowStarter" for spec in action.specs):
        out["annotations"] = {"provide-api-key": True}  # ctx.start_flow invokes the conductor (rest_api.md)
    if not action.is_web:
        inputs = {"__corefn_app": ref, "__corefn_handler": action.handler}
        if kind in ("stream", "queue"):
            inputs.update({"isBinaryKey": True, "isBinaryValue": True})
    inputs.update(_env_inputs(app, action))
    if inputs:
        out["inputs"] = inputs
    memory = max((s.options.memory or 0 for s in action.specs), default=0)
    timeout = max((s.options.timeout or 0 for s in action.specs), default=0)
    limits = {k: v for k, v in (("memorySize", memory), ("timeout", int(timeout * 1000))) if v}
    if limits:
        out["limits"] = limits
    return out


def _env_inputs(app: App, action: ActionPlan) -> dict[str, str]:
    """The settings the action's code reads, as bound ``__corefn_env_<NAME>`` parameters (see
    :mod:`.runtime`): the URLs of the sinks its handlers use and their backends' settings, the
    API key, the webhook token, the Kafka settings for republishing, each handler's ``env``."""
    from corefn.policy import used_sinks

    found: dict[str, str] = {}
    sinks = {s.name: s for spec in action.specs for s in used_sinks(app, spec)}
    # the web action serves several handlers and a conductor none, so corefn's cold-start check
    # (corefn.sinks.check_configured, which knows one pinned handler) asks for every sink's URL there
    for sink in app.sinks if action.handler is None else sinks.values():
        found[sink.env_var] = f"${sink.env_var}"
    for family in sorted({s.family for s in sinks.values()}):
        found.update(FAMILY_ENV.get(family, {}))
    if any(spec.options.api_key for spec in action.specs):
        found[app.api_key_env] = f"${app.api_key_env}"
    kinds = {spec.kind for spec in action.specs}
    if "storage" in kinds:
        found.update(WEBHOOK_ENV)
    if kinds & {"queue", "stream", "nosql"}:  # republishing / dead-lettering to Kafka (corefn_openwhisk.queue, .stream)
        found.update(KAFKA_ENV)
    out = {f"{ENV_PREFIX}{name}": value for name, value in found.items()}
    for spec in action.specs:
        out.update({f"{ENV_PREFIX}{k}": v for k, v in spec.options.env.items()})
    return out


def _triggers(spec: HandlerSpec, action: ActionPlan) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    trigger: Any = spec.trigger
    inputs: dict[str, Any] | None = None
    if spec.kind == "timer":
        markers = {"corefn_timer": spec.name, "corefn_schedule": trigger.schedule, "corefn_tz": trigger.tz}
        inputs = {"cron": trigger.schedule, "timezone": trigger.tz, "trigger_payload": markers}
    elif spec.kind in ("stream", "queue"):
        topic = trigger.stream if spec.kind == "stream" else trigger.queue
        inputs = {"topic": topic, "isBinaryKey": True, "isBinaryValue": True, "isJSONData": False}
        inputs.update(KAFKA_CREDENTIALS)
    elif spec.kind == "nosql":
        inputs = {"dbname": trigger.table, **CLOUDANT_CREDENTIALS}
    if inputs is not None:
        found.append((f"{spec.name}-{spec.kind}", {"feed": FEEDS[spec.kind], "inputs": inputs}))
    if spec.options.warm:
        warm = {"cron": "*/5 * * * *", "trigger_payload": {"corefn": "warmup"}}
        found.append((f"{action.name}-warm", {"feed": FEEDS["timer"], "inputs": warm}))
    return found


def _apis(app: App, web: ActionPlan) -> dict[str, Any]:
    """API Gateway endpoints, one API per method (wskdeploy maps a path to one method per API)."""
    apis: dict[str, Any] = {}
    for spec in web.specs:
        route: str = spec.trigger.route  # type: ignore[attr-defined]
        methods = spec.trigger.methods  # type: ignore[attr-defined]
        relative = route.strip("/").replace("+}", "}")
        if not relative:
            continue  # the root is served by the web action's own URL
        for method in ALL_METHODS if "*" in methods else methods:
            api = apis.setdefault(f"{app.name}-{method.lower()}", {app.name: {}})
            api[app.name][relative] = {web.name: {"method": method, "response": "http"}}
    return apis


def emit(value: Mapping[str, Any], indent: int = 0) -> str:
    """Block-style YAML for nested mappings of scalars; lists and scalars as JSON flow values."""
    lines = []
    pad = "  " * indent
    for key, item in value.items():
        name = key if key.replace("-", "").replace("_", "").replace(".", "").isalnum() else json.dumps(key)
        if isinstance(item, Mapping) and item:
            lines.append(f"{pad}{name}:")
            lines.append(emit(item, indent + 1).rstrip("\n"))
        else:
            lines.append(f"{pad}{name}: {json.dumps(item)}")
    return "\n".join(lines) + "\n"


def build_bundle(out: Path) -> list[Path]:
    """After ``corefn deploy`` wrote the vendored code under ``out/src``: every action's zip
    (:mod:`corefn_openwhisk.build`), each checked against the code limit."""
    import sys

    from corefn_openwhisk.build import build, code_limit

    built, limit = build(out), code_limit()
    for done in built:
        print(f"{done.path}: {done.size:,} bytes ({done.encoded:,} base64, limit {limit:,})", file=sys.stderr)
    return [done.path for done in built]
