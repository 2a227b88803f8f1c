"""The Google Cloud project for a corefn app (Cloud Run functions, 2nd gen, ``python312``):
``main.py`` (one functions-framework target per handler), ``requirements.txt`` (pinned from
``deploy/locks/gcp-python3.12.txt``; corefn and this adapter are vendored beside it by
``corefn deploy``), a re-runnable ``deploy.sh`` that builds every resource (:mod:`corefn_gcp._script`),
``teardown.sh`` and ``README.md``.

One deployed function per declared handler. The plan is built first as frozen
data (:class:`Function`, :class:`corefn_gcp._infra.Infra`), then rendered.

Triggers per kind::

    http      --trigger-http --allow-unauthenticated (API keys and auth=Jwt tokens are checked by
              corefn); provider={"gcp": {"iam": True}}: --no-allow-unauthenticated, so Cloud Run's
              IAM check verifies the caller's Google-signed ID token before the function runs
    storage   --trigger-http (private) + corefn's push subscription (as for queues below) on the
              topic the watched bucket's Pub/Sub notification publishes to (JSON payload)
    nosql     Eventarc: type=google.cloud.firestore.document.v1.written database=(default),
              --trigger-event-filters-path-pattern=document=TABLE/{doc} --retry
    topic     --trigger-http (private) + corefn's push subscription with the compiled retry
    queue     policy: --max-delivery-attempts, a dead-letter topic and a pull subscription on it
    stream    the same, with --enable-message-ordering (the ordering key is the partition)
    timer     --trigger-http (private) + a Cloud Scheduler HTTP job with an OIDC token
    invoke    --trigger-http, private (`gcloud functions call`, or a flow's workflow)

Every queue-like and storage handler gets its own push subscription rather than Eventarc: Eventarc
creates that subscription itself and gives it no dead-letter policy, so a poison message would be
retried for the topic's retention (a storage event for 24 hours) and then dropped. Pub/Sub sets ``deliveryAttempt`` only on
subscriptions with a dead-letter policy (https://cloud.google.com/pubsub/docs/handling-failures).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from corefn.app import App
from corefn.errors import ConfigurationError
from corefn.loader import bundled_ref
from corefn.policy import retry_policy
from corefn.specs import HandlerSpec, StorageTrigger, TimerTrigger
from corefn_gcp._infra import (
    APIS,
    FEATURE_APIS,
    RUNTIME,
    Infra,
    Notification,
    PushSubscription,
    account_id,
    dead_letter_subscription,
    identity,
    secret_id,
    storage_topic,
)
from corefn_gcp.storage import OPERATIONS

#: Cloud Run functions' Python 3.12 runtime (https://cloud.google.com/functions/docs/runtime-support)
LOCK_RUNTIME = "python3.12"
WARM_SCHEDULE = "*/5 * * * *"  # ping every 5 minutes; min instances keep one warm for a fee: https://cloud.google.com/functions/docs/configuring/min-instances

#: corefn storage operation → the Pub/Sub notification's ``--event-types`` value (the same table)
NOTIFICATION_TYPES: dict[str, str] = {op: t for t, op in OPERATIONS.items() if t.startswith("OBJECT_")}
FIRESTORE_WRITTEN = "google.cloud.firestore.document.v1.written"

#: handler kind → (functions-framework signature, runtime function the target calls)
TARGETS: dict[str, tuple[str, str]] = {
    "http": ("http", "serve_http"),
    "storage": ("http", "serve_event_request"),
    "nosql": ("cloud_event", "serve_cloud_event"),
    "topic": ("http", "serve_event_request"),
    "queue": ("http", "serve_event_request"),
    "stream": ("http", "serve_event_request"),
    "timer": ("http", "serve_event_request"),
    "invoke": ("http", "serve_invoke"),
}
RESERVED = frozenset({"os", "functions_framework", "runtime", "APP"})


@dataclass(frozen=True, slots=True)
class Function:
    """One deployed Cloud Function: its target in main.py, the flags that set its trigger, and
    what calls it (a push subscription, a Scheduler job, an Eventarc trigger)."""

    name: str  # the Cloud Functions name
    target: str  # the Python function in main.py (--entry-point)
    spec: HandlerSpec
    trigger: tuple[str, ...]  # gcloud functions deploy flags that set the trigger
    public: bool = False  # --allow-unauthenticated
    eventarc: bool = False  # an Eventarc trigger: the invoker account is its trigger service account
    subscription: PushSubscription | None = None
    schedule: TimerTrigger | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var → secret id


# ------------------------------------------------------------------------------ planning


def _q(value: str) -> str:
    return shlex.quote(value)


def function_name(app: App, spec: HandlerSpec, suffix: str = "") -> str:
    """Cloud Functions (2nd gen) names: a letter first, then lower-case letters, digits and
    hyphens, at most 63 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{app.name}-{spec.name}{suffix}".lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"fn-{name}"
    return name[:63].rstrip("-")


def target_name(spec: HandlerSpec) -> str:
    target = re.sub(r"\W", "_", spec.name)
    if target[0].isdigit():
        target = f"handler_{target}"
    return f"{target}_handler" if target in RESERVED else target


def _plan_http(app: App, spec: HandlerSpec) -> list[Function]:
    iam = bool((spec.options.provider.get("gcp") or {}).get("iam"))
    trigger = ("--trigger-http", "--no-allow-unauthenticated" if iam else "--allow-unauthenticated")
    return [Function(function_name(app, spec), target_name(spec), spec, trigger, public=not iam)]


def _plan_private_http(app: App, spec: HandlerSpec) -> list[Function]:
    return [Function(function_name(app, spec), target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"))]


def _plan_storage(app: App, spec: HandlerSpec) -> list[Function]:
    """A private function fed by a push subscription on the bucket's notification topic."""
    trigger = spec.trigger
    assert isinstance(trigger, StorageTrigger)
    return _plan_pubsub(app, spec, storage_topic(app.name, trigger.bucket))


def _plan_nosql(app: App, spec: HandlerSpec) -> list[Function]:
    table = spec.resource or ""
    trigger = (
        f"--trigger-event-filters=type={FIRESTORE_WRITTEN}",
        "--trigger-event-filters=database='(default)'",
        f"--trigger-event-filters-path-pattern=document={_q(table + '/{doc}')}",
        '--trigger-location="$FIRESTORE_LOCATION"',
        "--retry",
    )
    return [Function(function_name(app, spec), target_name(spec), spec, trigger, eventarc=True)]


def _plan_pubsub(app: App, spec: HandlerSpec, topic: str | None = None) -> list[Function]:
    from corefn_gcp.policy import compile_policy

    settings = compile_policy(app, retry_policy(app, spec)).settings
    name = function_name(app, spec)
    declared = getattr(spec.trigger, "subscription", None)  # a topic handler may name its subscription
    subscription = PushSubscription(
        name=declared or f"{name}-push",
        topic=topic or spec.resource or "",
        function=name,
        ordered=spec.kind == "stream" or bool(spec.options.ordered),
        ack_deadline=int(settings["ack_deadline"]),
        dead_letter=settings.get("dead_letter_topic"),
        max_attempts=settings.get("max_delivery_attempts"),
        min_retry_delay=str(settings["min_retry_delay"]),
        max_retry_delay=str(settings["max_retry_delay"]),
    )
    return [Function(name, target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"), subscription=subscription)]


def _plan_timer(app: App, spec: HandlerSpec) -> list[Function]:
    trigger = spec.trigger
    assert isinstance(trigger, TimerTrigger)
    name = function_name(app, spec)
    return [Function(name, target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"), schedule=trigger)]


PLANNERS: dict[str, Callable[[App, HandlerSpec], list[Function]]] = {
    "http": _plan_http,
    "storage": _plan_storage,
    "nosql": _plan_nosql,
    "topic": _plan_pubsub,
    "queue": _plan_pubsub,
    "stream": _plan_pubsub,
    "timer": _plan_timer,
    "invoke": _plan_private_http,
}


def sink_env(app: App, spec: HandlerSpec) -> tuple[dict[str, str], dict[str, str]]:
    """``COREFN_SINK_<NAME>`` of every sink the handler uses: the Google service's URL (bash text:
    buckets carry ``${PREFIX}``, every URL names ``${PROJECT}``: none relies on a default), and
    for SQL databases and caches the secret holding the URL (their password is in it)."""
    from corefn.policy import used_sinks

    env: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for sink in used_sinks(app, spec):
        if sink.family == "object":
            env[sink.env_var] = f"gs://${{PREFIX}}-{sink.name}"
        elif sink.family == "table":
            env[sink.env_var] = f"firestore://${{PROJECT}}/{sink.name}"
        elif sink.family == "publisher":
            env[sink.env_var] = f"pubsub://${{PROJECT}}/{sink.name}"
        else:
            secrets[sink.env_var] = secret_id(app, f"sink-{sink.name}")
    return env, secrets


class Plan(NamedTuple):
    """The app's deployment on Google Cloud: what :func:`render` writes files from."""

    app: App
    app_ref: str
    functions: list[Function]
    resources: Infra


def plan(app: App, app_ref: str) -> Plan:
    functions = plan_functions(app, app_ref)
    return Plan(app, app_ref, functions, infra(app, functions))


def plan_functions(app: App, app_ref: str) -> list[Function]:
    functions: list[Function] = []
    targets: dict[str, str] = {}
    buckets = sorted(name for name, r in app.resources().items() if r.kind == "bucket")
    for spec in app.handlers:
        planner = PLANNERS.get(spec.kind)
        if planner is None:
            raise ConfigurationError(f"the gcp adapter cannot deploy {spec.kind} handler {spec.name!r}")
        target = target_name(spec)
        if targets.setdefault(target, spec.name) != spec.name:
            raise ConfigurationError(f"handlers {targets[target]!r} and {spec.name!r} both become main.py target {target!r}; rename one")
        sinks, secrets = sink_env(app, spec)
        if spec.kind == "http" and spec.options.api_key:
            secrets[app.api_key_env] = secret_id(app, "api-key")
        for fn in planner(app, spec):
            env = {"COREFN_APP": bundled_ref(app_ref), "COREFN_HANDLER": spec.name, "GOOGLE_CLOUD_PROJECT": "${PROJECT}", **sinks}
            if spec.kind == "storage":  # events name the physical bucket: handlers see the logical one
                env["COREFN_NAMES"] = json.dumps({f"${{PREFIX}}-{b}": b for b in buckets}, separators=(",", ":"))
            if spec.options.timeout:
                env["COREFN_TIMEOUT"] = str(spec.options.timeout)
            flow = getattr(spec.handler, "flow", None)
            if isinstance(flow, str):  # a trigger applied to a flow: the workflow it starts
                from corefn_gcp._flows_deploy import flow_env
                from corefn_gcp.flows import workflow_name

                env[flow_env(flow)] = f"projects/${{PROJECT}}/locations/${{REGION}}/workflows/{workflow_name(app.name, app.get_flow(flow))}"
            env.update(spec.options.env)
            functions.append(replace(fn, env=env, secrets=secrets))
    return functions


def _notification(known: Notification | None, app: App, trigger: StorageTrigger) -> Notification:
    """The bucket's notification grown by one more handler: the union of event types, the
    prefix kept only while every handler shares it."""
    types = tuple(sorted(NOTIFICATION_TYPES[op] for op in trigger.operations))
    if known is None:
        return Notification(trigger.bucket, storage_topic(app.name, trigger.bucket), types, trigger.prefix)
    merged = tuple(sorted(set(known.event_types) | set(types)))
    return replace(known, event_types=merged, prefix=known.prefix if known.prefix == trigger.prefix else "")


def infra(app: App, functions: list[Function]) -> Infra:
    """Every resource the functions need (see :mod:`corefn_gcp._infra`)."""
    out = Infra(apis=list(APIS))
    resources = app.resources()
    for name, resource in resources.items():
        if resource.kind == "bucket":
            out.buckets.append(name)
        elif resource.kind in ("queue", "topic", "stream"):
            out.topics.append(name)
        elif resource.kind == "table":
            out.firestore = True
    for fn in functions:
        trigger = fn.spec.trigger
        if isinstance(trigger, StorageTrigger):
            out.notifications[trigger.bucket] = _notification(out.notifications.get(trigger.bucket), app, trigger)
        sub = fn.subscription
        if sub is not None:
            out.subscriptions.append(sub)
            if sub.topic not in out.topics:
                out.topics.append(sub.topic)
            if sub.dead_letter is not None:
                out.dead_letters.setdefault(sub.dead_letter, dead_letter_subscription(sub.dead_letter))
        for secret in fn.secrets.values():
            if secret.endswith("-api-key"):
                out.secrets.setdefault(secret, f"the API key callers send in x-api-key ({app.api_key_env})")
            else:
                sink = next(s for s in app.sinks if secret_id(app, f"sink-{s.name}") == secret)
                out.secrets.setdefault(secret, f"the URL of {sink.family} sink {sink.name!r} ({sink.env_var}), password included")
        if fn.spec.name not in out.identities:
            out.identities[fn.spec.name] = identity(app, fn.spec, function_name(app, fn.spec))
    out.topics = [t for t in out.topics if t not in out.dead_letters]
    out.network = any(i.networked for i in out.identities.values())
    out.invoker = account_id(f"{app.name}-invoker")
    out.builder = account_id(f"{app.name}-build")
    features = {
        "firestore": out.firestore, "secrets": bool(out.secrets), "network": out.network,
        "scheduler": any(f.schedule is not None or f.spec.options.warm for f in functions),
        "workflows": bool(app.flows), "executions": bool(app.flows),
    }  # fmt: skip
    out.apis += [FEATURE_APIS[k] for k, wanted in features.items() if wanted]
    return out


# ------------------------------------------------------------------------------- rendering


def render_main(app: App, app_ref: str, functions: list[Function]) -> str:
    lines = [
        f'"""Cloud Functions entry points for the corefn app {app.name!r} ({app_ref}).',
        "",
        f"Generated by `corefn deploy {app_ref} --cloud gcp`: change the app, not this file. One target",
        "per declared handler; deploy.sh deploys each with --entry-point=<target>.",
        '"""',
        "",
        "import os",
        "",
        "import functions_framework",
        "",
        "from corefn_gcp import runtime",
        "",
        f"APP = os.environ.get(\"COREFN_APP\") or {bundled_ref(app_ref)!r}",
    ]
    seen: set[str] = set()
    for fn in functions:
        if fn.target in seen:
            continue
        seen.add(fn.target)
        signature, serve = TARGETS[fn.spec.kind]
        arg = "request" if signature == "http" else "event"
        what = f"{fn.spec.kind} {fn.spec.resource or ''}".rstrip()
        call = f"runtime.{serve}({arg}, APP, {fn.spec.name!r})"
        lines += [
            "",
            "",
            f"@functions_framework.{signature}",
            f"def {fn.target}({arg}):",
            f'    """{what}: handler {fn.spec.name!r}."""',
            f"    {'return ' if signature == 'http' else ''}{call}",
        ]
    return "\n".join(lines) + "\n"


#: what ``gcloud functions deploy --source=.`` leaves out of the upload: the scripts and docs
#: (https://cloud.google.com/sdk/gcloud/reference/topic/gcloudignore)
GCLOUDIGNORE = """.gcloudignore
deploy.sh
teardown.sh
README.md
workflows/
__pycache__/
*.pyc
"""


def requirements(app: App, app_ref: str) -> str:
    """What Cloud Build installs: third-party packages only, pinned from
    ``deploy/locks/gcp-python3.12.txt`` (corefn and corefn_gcp are vendored beside main.py), plus
    functions-framework, which the generated main.py imports."""
    from corefn.bundle import requirement_names
    from corefn.deploy_lock import lock_for, requirements_txt

    lock = lock_for("gcp", LOCK_RUNTIME)
    wanted = [*requirement_names(app, app_ref, "gcp"), "functions-framework"]
    return requirements_txt(lock, wanted, f"{app.name} on Cloud Run functions {RUNTIME}")


def render(plan: Plan) -> dict[str, str | bytes]:
    from corefn_gcp._readme import readme
    from corefn_gcp._script import deploy_script, teardown_script

    app, app_ref, functions, resources = plan
    files: dict[str, str | bytes] = {
        "main.py": render_main(app, app_ref, functions),
        "requirements.txt": requirements(app, app_ref),
        "deploy.sh": deploy_script(app, functions, resources),
        "teardown.sh": teardown_script(app, functions, resources),
        "README.md": readme(app, app_ref, functions, resources),
        ".gcloudignore": GCLOUDIGNORE,
    }
    if app.flows:
        from corefn_gcp.flows import files as flow_files

        files.update(flow_files(app))
    return files


def generate(app: App, app_ref: str) -> dict[str, str | bytes]:
    """Plan and render in one call (what ``Provider.generate`` does)."""
    return render(plan(app, app_ref))
