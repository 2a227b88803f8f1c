"""What ``corefn deploy --cloud openwhisk`` writes: one Python action per deployable unit, a
wskdeploy ``manifest.yaml`` wiring them to triggers, and a ``build.sh`` that zips each action.

Actions (all of kind ``python:3.11``, code from ``build/<action>.zip``):

- one web action (``web``, or ``corefn-web`` when a handler is called ``web``) serving every HTTP
  route in raw HTTP mode (``web: raw``), so query and body arrive exactly as sent; corefn's
  router matches ``__ow_path``. Each route is also published through the API Gateway (``apis``);
- one action per other handler, pinned to it (``__corefn_handler``), with its trigger and rule:

  =======  ===========================================  ===========================================
  kind     feed                                         inputs
  =======  ===========================================  ===========================================
  timer    ``/whisk.system/alarms/alarm``               ``cron``, ``timezone``, ``trigger_payload``
                                                        with corefn's markers (see :mod:`.timer`)
  storage  ``/whisk.system/cos/changes``                ``bucket``, ``event_types``, prefix/suffix
  stream   ``/whisk.system/messaging/messageHubFeed``   ``topic``, binary key/value (see
                                                        :mod:`.stream`), credentials from env
  nosql    ``/whisk.system/cloudant/changes``           ``dbname``, credentials from env
  invoke   (none: invoked directly)
  =======  ===========================================  ===========================================

- ``warm=True`` adds an alarm every 5 minutes firing ``{"corefn": "warmup"}`` at the action.

Queue and topic handlers have no OpenWhisk trigger (no managed queue service is part of the
platform); they are listed in a comment at the top of the manifest, not deployed. Credentials,
sink URLs and the API key are wskdeploy ``$VARIABLE`` references, filled from the deployer's
environment; the action exports ``__corefn_env_*`` parameters as environment variables. The manifest is
written by a small emitter (JSON-quoted scalars are valid YAML), so corefn needs no YAML library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from corefn.auth import jwt_extra
from corefn.loader import split_ref
from corefn_openwhisk.action import ENV_PREFIX

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

RUNTIME = "python:3.11"
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
COS_EVENT_TYPES = {"created": "write", "deleted": "delete"}
FEEDS = {
    "timer": "/whisk.system/alarms/alarm",
    "storage": "/whisk.system/cos/changes",
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


@dataclass
class ActionPlan:
    name: str
    handler: str | None  # None: the web action, serving every HTTP handler
    specs: list[HandlerSpec] = field(default_factory=list)

    @property
    def is_web(self) -> bool:
        return self.handler is None


def zip_ref(app_ref: str) -> tuple[str, str, str]:
    """(the app reference inside the zip, the folder holding the app's code, what build.sh
    copies from that folder to the zip's root). A file reference ``dir/app.py:app`` becomes
    module ``app:app`` with ``dir``'s content copied; ``pkg.mod:app`` copies package ``pkg``."""
    target, attr = split_ref(app_ref)
    path = target.replace("\\", "/")
    if path.endswith(".py") or "/" in path:
        folder, _, name = path.rpartition("/")
        return f"{name.removesuffix('.py')}:{attr}", folder or ".", "."
    return f"{target}:{attr}", "", target.split(".", 1)[0]


class Plan(NamedTuple):
    """The app's deployment on OpenWhisk: what :func:`render` writes files from."""

    app: App
    app_ref: str
    actions: list[ActionPlan]
    skipped: list[str]


def plan(app: App, app_ref: str) -> Plan:
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
        elif spec.kind in FEEDS or spec.kind == "invoke":
            actions.append(ActionPlan(spec.name, spec.name, [spec]))
        else:
            skipped.append(f"{spec.kind} handler {spec.name!r}")
    return ([web] if web.specs else []) + actions, skipped


def render(plan: Plan) -> dict[str, str | bytes]:
    app, app_ref, actions, skipped = plan
    ref, _, _ = zip_ref(app_ref)
    files: dict[str, str | bytes] = {
        f"actions/{a.name}/__main__.py": main_source(app, ref, a) for a in actions
    }
    files["manifest.yaml"] = manifest(app, ref, actions, skipped)
    files["build.sh"] = build_script(app, app_ref, actions)
    return files


def main_source(app: App, ref: str, action: ActionPlan) -> str:
    serves = "every HTTP route" if action.is_web else f"handler {action.handler!r}"
    return (
        f'"""OpenWhisk action {action.name!r} of app {app.name!r}: {serves}. Generated by corefn; do not edit."""\n\n'
        "from corefn_openwhisk.action import make_main\n\n"
        f"main = make_main({ref!r}, {action.handler!r})\n"
    )


# --------------------------------------------------------------------------- the manifest


def manifest(app: App, ref: str, actions: list[ActionPlan], skipped: list[str]) -> str:
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
        f"# wskdeploy manifest for corefn app {app.name!r} (generated; do not edit).",
        "# Build the zips with ./build.sh, then: wskdeploy -m manifest.yaml",
        "# Credentials come from the environment: KAFKA_*, CLOUDANT_HOST, CLOUDANT_APIKEY.",
    ]
    header += [f"# NOT DEPLOYED (OpenWhisk has no trigger for it): {s}" for s in skipped]
    return "\n".join(header) + "\n" + emit({"packages": {app.name: package}})


def _action(app: App, ref: str, action: ActionPlan) -> dict[str, Any]:
    out: dict[str, Any] = {"function": f"build/{action.name}.zip", "runtime": RUNTIME}
    inputs: dict[str, Any] = {}
    if action.is_web:
        out["web"] = "raw"
        if app.cors is not None:
            out["annotations"] = {"web-custom-options": True}  # corefn answers CORS preflights itself
    else:
        inputs = {"__corefn_app": ref, "__corefn_handler": action.handler}
        if action.specs[0].kind == "stream":
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
    """Environment the action needs, as bound ``__corefn_env_<NAME>`` parameters (see
    :mod:`.action`): sink URLs and the API key from the deployer's environment, plus each
    handler's ``env`` option verbatim."""
    names = [sink.env_var for sink in app.sinks]
    if any(spec.options.api_key for spec in action.specs):
        names.append(app.api_key_env)
    found = {f"{ENV_PREFIX}{name}": f"${name}" for name in names}
    for spec in action.specs:
        found.update({f"{ENV_PREFIX}{k}": v for k, v in spec.options.env.items()})
    return found


def _triggers(spec: HandlerSpec, action: ActionPlan) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    trigger: Any = spec.trigger
    inputs: dict[str, Any] | None = None
    if spec.kind == "timer":
        markers = {"corefn_timer": spec.name, "corefn_schedule": trigger.schedule, "corefn_tz": trigger.tz}
        inputs = {"cron": trigger.schedule, "timezone": trigger.tz, "trigger_payload": markers}
    elif spec.kind == "storage":
        types = sorted({COS_EVENT_TYPES[o] for o in trigger.operations if o in COS_EVENT_TYPES})
        inputs = {"bucket": trigger.bucket, "event_types": "all" if len(types) == 2 else types[0] if types else "write"}
        inputs.update({k: v for k, v in (("prefix", trigger.prefix), ("suffix", trigger.suffix)) if v})
    elif spec.kind == "stream":
        inputs = {"topic": trigger.stream, "isBinaryKey": True, "isBinaryValue": True, "isJSONData": False}
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


# ---------------------------------------------------------------------------- build.sh


def build_script(app: App, app_ref: str, actions: list[ActionPlan]) -> str:
    _, folder, source = zip_ref(app_ref)
    names = " ".join(a.name for a in actions)
    sources = source if source == "." else f"{source} {source}.py"  # a package or a module file
    return f"""#!/usr/bin/env bash
# Builds build/<action>.zip for every OpenWhisk action of corefn app {app.name!r}.
# A Python zip action for the {RUNTIME} kind holds __main__.py at the zip root (OpenWhisk calls
# its main(params)), next to the packages it imports: corefn with its OpenWhisk adapter, and the
# app's own code ({source} from APP_SRC).
#   APP_SRC      folder holding the app's code (default: {folder or "the current directory"})
#   COREFN_SPEC  what pip installs (default: corefn[openwhisk{jwt_extra(app.handlers)}]; a path to a corefn checkout works)
#   COREFN_VENDOR  a folder of already-installed packages (corefn and the app's requirements) to
#                copy instead of running pip; without it, APP_SRC/requirements.txt is installed too
# Pure-Python dependencies only: build native ones for linux/x86_64 (pip --platform) yourself.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
APP_SRC="${{APP_SRC:-{folder or "$PWD"}}}"
COREFN_SPEC="${{COREFN_SPEC:-corefn[openwhisk{jwt_extra(app.handlers)}]}}"
rm -rf "$HERE/build"
mkdir -p "$HERE/build/vendor"
if [ -n "${{COREFN_VENDOR:-}}" ]; then
  cp -R "$COREFN_VENDOR/." "$HERE/build/vendor/"
else
  python3 -m pip install --quiet --target "$HERE/build/vendor" "$COREFN_SPEC"
  if [ -f "$APP_SRC/requirements.txt" ]; then  # the app's own dependencies
    python3 -m pip install --quiet --target "$HERE/build/vendor" -r "$APP_SRC/requirements.txt"
  fi
fi
for action in {names}; do
  stage="$HERE/build/$action"
  mkdir -p "$stage"
  cp -R "$HERE/build/vendor/." "$stage/"
  for src in {sources}; do
    if [ -e "$APP_SRC/$src" ]; then cp -R "$APP_SRC/$src" "$stage/"; fi
  done
  cp "$HERE/actions/$action/__main__.py" "$stage/__main__.py"
  (cd "$stage" && zip -qr "$HERE/build/$action.zip" .)
  echo "built build/$action.zip"
done
"""
