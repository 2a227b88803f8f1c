"""``main.py``, ``requirements.txt``, ``deploy.sh`` and ``env/<function>.yaml`` for an app on
Google Cloud Functions (2nd gen, ``python311``).

One deployed function per declared handler (two or more for a storage handler watching several
operations: an Eventarc trigger filters on one event type), each with its own target in
``main.py``. The plan is built first as frozen data (:class:`Function`), then rendered.

Triggers per kind (https://cloud.google.com/functions/docs/calling)::

    http      --trigger-http --allow-unauthenticated (API keys and auth=Jwt tokens are checked by
              corefn); provider={"gcp": {"iam": True}}: --no-allow-unauthenticated, so Cloud Run's
              IAM check verifies the caller's Google-signed ID token before the function runs
    storage   --trigger-event-filters=type=google.cloud.storage.object.v1.<op> bucket=B --retry
    nosql     --trigger-event-filters=type=google.cloud.firestore.document.v1.written
              database=(default), --trigger-event-filters-path-pattern=document=TABLE/{doc} --retry
    topic     --trigger-topic=T --retry  (Eventarc's own push subscription)
    queue     the same
    stream    --trigger-http + a push subscription with --enable-message-ordering: Eventarc
              triggers cannot keep order; the ordering key is the stream's partition
    timer     --trigger-http + `gcloud scheduler jobs create http` (--time-zone=<tz>) sending
              X-Corefn-Timer: <handler> with an OIDC token
    invoke    --trigger-http, private (`gcloud functions call`)

A topic or queue handler with ``dead_letter`` or ``max_attempts`` also gets its own push
subscription (``--dead-letter-topic``, ``--max-delivery-attempts``: Pub/Sub's range is 5-100, its
default 5) instead of ``--trigger-topic``, because Eventarc's subscription is not ours to
configure. Pub/Sub sets ``deliveryAttempt`` only on subscriptions with a dead-letter policy.

Physical names are the logical ones (bucket ``originals`` is the GCS bucket ``originals``); set
``COREFN_NAMES`` in a handler's ``env`` to map others.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from corefn._version import __version__
from corefn.app import App
from corefn.auth import jwt_extra
from corefn.errors import ConfigurationError
from corefn.loader import app_requirements, bundled_ref
from corefn.specs import HandlerSpec, StorageTrigger, TimerTrigger
from corefn_gcp.storage import CLOUD_EVENT_PREFIX, OPERATIONS
from corefn_gcp.timer import TIMER_HEADER

RUNTIME = "python311"
WARM_SCHEDULE = "*/5 * * * *"  # ping every 5 minutes; min instances keep one warm for a fee: https://cloud.google.com/functions/docs/configuring/min-instances
MIN_ATTEMPTS, MAX_ATTEMPTS = 5, 100  # Pub/Sub's bounds for --max-delivery-attempts

#: corefn storage operation → the 2nd gen CloudEvent type (derived from the adapter's own table)
STORAGE_TYPES: dict[str, str] = {op: t for t, op in OPERATIONS.items() if t.startswith(CLOUD_EVENT_PREFIX)}
FIRESTORE_WRITTEN = "google.cloud.firestore.document.v1.written"

#: handler kind → (functions-framework signature, runtime function the target calls)
TARGETS: dict[str, tuple[str, str]] = {
    "http": ("http", "serve_http"),
    "storage": ("cloud_event", "serve_cloud_event"),
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
    """One deployed Cloud Function: its target in main.py and the commands that deploy it."""

    name: str  # the Cloud Functions name
    target: str  # the Python function in main.py (--entry-point)
    spec: HandlerSpec
    trigger: tuple[str, ...]  # gcloud functions deploy flags that set the trigger
    after: tuple[str, ...] = ()  # commands run once the function exists (subscriptions, jobs)
    env: dict[str, str] = field(default_factory=dict)


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


def _url(name: str) -> str:
    return f"URL=\"$(gcloud functions describe {name} --gen2 --region=\"$REGION\" --format='value(serviceConfig.uri)')\""


def _warm_job(fn_name: str, signature: str) -> tuple[str, ...]:
    """A 5-minute ping that never reaches user code (WarmupShape / WarmupCloudEvent)."""
    if signature == "cloud_event":
        headers = "Content-Type=application/json,ce-specversion=1.0,ce-type=dev.corefn.warmup,ce-source=//corefn/warmup,ce-id=warmup"
    else:
        headers = "X-Corefn-Warmup=1"
    return (
        _url(fn_name),
        f"gcloud scheduler jobs create http {fn_name}-warm --location=\"$REGION\" --schedule={_q(WARM_SCHEDULE)} "
        f"--uri=\"$URL\" --http-method=POST --headers={_q(headers)} --message-body='{{}}' "
        f"--oidc-service-account-email=\"$INVOKER_SA\" --oidc-token-audience=\"$URL\"",
    )


def _push_subscription(fn_name: str, topic: str, spec: HandlerSpec, ordered: bool) -> tuple[str, ...]:
    options = spec.options
    flags = [f"--topic={_q(topic)}", "--push-endpoint=\"$URL\"", "--push-auth-service-account=\"$INVOKER_SA\""]
    if options.timeout:
        flags.append(f"--ack-deadline={max(10, min(600, int(options.timeout)))}")
    if ordered:
        flags.append("--enable-message-ordering")
    commands = [_url(fn_name)]
    if options.dead_letter or options.max_attempts:
        dead = options.dead_letter or f"{topic}-dead-letter"
        attempts = max(MIN_ATTEMPTS, min(MAX_ATTEMPTS, options.max_attempts or MIN_ATTEMPTS))
        flags += [f"--dead-letter-topic={_q(dead)}", f"--max-delivery-attempts={attempts}"]
        commands.append(f"ensure_topic {_q(dead)}")
    flags += ["--min-retry-delay=10s", "--max-retry-delay=600s"]
    commands.append(f"gcloud pubsub subscriptions create {fn_name}-push {' '.join(flags)}")
    return tuple(commands)


def _plan_http(app: App, spec: HandlerSpec) -> list[Function]:
    iam = bool((spec.options.provider.get("gcp") or {}).get("iam"))
    trigger = ["--trigger-http", "--no-allow-unauthenticated" if iam else "--allow-unauthenticated"]
    if spec.options.api_key:
        trigger.append(f"--set-secrets={app.api_key_env}={app.name}-api-key:latest")
    return [Function(function_name(app, spec), target_name(spec), spec, tuple(trigger))]


def _plan_private_http(app: App, spec: HandlerSpec) -> list[Function]:
    return [Function(function_name(app, spec), target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"))]


def _plan_storage(app: App, spec: HandlerSpec) -> list[Function]:
    trigger = spec.trigger
    assert isinstance(trigger, StorageTrigger)
    several = len(trigger.operations) > 1
    return [
        Function(
            function_name(app, spec, f"-{op.replace('_', '-')}" if several else ""),
            target_name(spec),
            spec,
            (f"--trigger-event-filters=type={STORAGE_TYPES[op]}", f"--trigger-event-filters=bucket={_q(trigger.bucket)}", "--retry"),
        )
        for op in trigger.operations
    ]


def _plan_nosql(app: App, spec: HandlerSpec) -> list[Function]:
    table = spec.resource or ""
    trigger = (
        f"--trigger-event-filters=type={FIRESTORE_WRITTEN}",
        "--trigger-event-filters=database='(default)'",
        f"--trigger-event-filters-path-pattern=document={_q(table + '/{doc}')}",
        "--trigger-location=\"$FIRESTORE_LOCATION\"",
        "--retry",
    )
    return [Function(function_name(app, spec), target_name(spec), spec, trigger)]


def _plan_pubsub(app: App, spec: HandlerSpec) -> list[Function]:
    topic = spec.resource or ""
    name = function_name(app, spec)
    ordered = spec.kind == "stream" or spec.options.ordered
    if ordered or spec.options.dead_letter or spec.options.max_attempts:
        after = (f"ensure_topic {_q(topic)}", *_push_subscription(name, topic, spec, ordered))
        return [Function(name, target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"), after)]
    return [Function(name, target_name(spec), spec, (f"--trigger-topic={_q(topic)}", "--retry"), (), {})]


def _plan_timer(app: App, spec: HandlerSpec) -> list[Function]:
    trigger = spec.trigger
    assert isinstance(trigger, TimerTrigger)
    name = function_name(app, spec)
    job = (
        f"gcloud scheduler jobs create http {name}-schedule --location=\"$REGION\" --schedule={_q(trigger.schedule)} "
        f"--time-zone={_q(trigger.tz)} --uri=\"$URL\" --http-method=POST --headers={_q(f'{TIMER_HEADER}={spec.name}')} "
        f"--message-body='{{}}' --oidc-service-account-email=\"$INVOKER_SA\" --oidc-token-audience=\"$URL\""
    )
    return [Function(name, target_name(spec), spec, ("--trigger-http", "--no-allow-unauthenticated"), (_url(name), job))]


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


#: the Google service behind each sink kind, named like the resource (as the storage triggers
#: name their buckets); caches and SQL databases have no serverless default: see sink_notes
SINK_SCHEMES = {"object": "gs", "table": "firestore", "publisher": "pubsub"}
SINK_HINTS = {
    "cache": "redis://MEMORYSTORE_IP:6379/0 (Memorystore needs a Serverless VPC Access connector)",
    "sql": "postgresql+psycopg://USER:PASSWORD@/DB?host=/cloudsql/PROJECT:REGION:INSTANCE (Cloud SQL)",
}


def sink_env(app: App) -> dict[str, str]:
    """``COREFN_SINK_<NAME>`` for every sink with a Google default, so a deployed function never
    falls back to the local folder backends of an instance's disk."""
    return {s.env_var: f"{SINK_SCHEMES[s.kind]}://{s.name}" for s in app.sinks if s.kind in SINK_SCHEMES}


def sink_notes(app: App) -> str:
    return "".join(f"# {s.env_var}: set to {SINK_HINTS[s.kind]}\n" for s in app.sinks if s.kind in SINK_HINTS)


class Plan(NamedTuple):
    """The app's deployment on Cloud Functions: what :func:`render` writes files from."""

    app: App
    app_ref: str
    functions: list[Function]


def plan(app: App, app_ref: str) -> Plan:
    return Plan(app, app_ref, plan_functions(app, app_ref))


def plan_functions(app: App, app_ref: str) -> list[Function]:
    functions: list[Function] = []
    targets: dict[str, str] = {}
    for spec in app.handlers:
        planner = PLANNERS.get(spec.kind)
        if planner is None:
            raise ConfigurationError(f"the gcp adapter cannot deploy {spec.kind} handler {spec.name!r}")
        target = target_name(spec)
        if targets.setdefault(target, spec.name) != spec.name:
            raise ConfigurationError(f"handlers {targets[target]!r} and {spec.name!r} both become main.py target {target!r}; rename one")
        for fn in planner(app, spec):
            env = {"COREFN_APP": bundled_ref(app_ref), "COREFN_HANDLER": spec.name, **sink_env(app)}
            if spec.options.timeout:
                env["COREFN_TIMEOUT"] = str(spec.options.timeout)
            env.update(spec.options.env)
            functions.append(Function(fn.name, fn.target, fn.spec, fn.trigger, fn.after, env))
    return functions


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


def render_deploy(app: App, functions: list[Function]) -> str:
    lines = [
        "#!/usr/bin/env bash",
        f"# Deploys the corefn app {app.name!r} to Google Cloud Functions (2nd gen). Generated by corefn.",
        "# Run it from this folder, with the app's source beside main.py. PROJECT, REGION,",
        "# FIRESTORE_LOCATION and INVOKER_SA (the service account Pub/Sub and Cloud Scheduler",
        "# authenticate as; it needs roles/run.invoker) may be set in the environment.",
        "set -euo pipefail",
        'PROJECT="${PROJECT:-$(gcloud config get-value project)}"',
        'REGION="${REGION:-us-central1}"',
        'FIRESTORE_LOCATION="${FIRESTORE_LOCATION:-$REGION}"',
        'INVOKER_SA="${INVOKER_SA:-corefn-invoker@${PROJECT}.iam.gserviceaccount.com}"',
        'export CLOUDSDK_CORE_PROJECT="$PROJECT"',
        "",
        "ensure_topic() { gcloud pubsub topics describe \"$1\" >/dev/null 2>&1 || gcloud pubsub topics create \"$1\"; }",
    ]
    for fn in functions:
        options = fn.spec.options
        flags = [
            "--gen2",
            f"--runtime={RUNTIME}",
            '--region="$REGION"',
            "--source=.",
            f"--entry-point={fn.target}",
            f"--env-vars-file=env/{fn.name}.yaml",
            *fn.trigger,
        ]
        if options.memory:
            flags.append(f"--memory={options.memory}Mi")
        if options.timeout:
            flags.append(f"--timeout={int(options.timeout)}s")
        if options.concurrency:
            flags.append(f"--max-instances={options.concurrency}")
        lines += ["", f"# {fn.spec.kind} handler {fn.spec.name!r}"]
        if any(f.startswith("--trigger-topic=") for f in fn.trigger):
            lines.append(f"ensure_topic {_q(fn.spec.resource or '')}")
        lines.append(f"gcloud functions deploy {fn.name} \\\n    " + " \\\n    ".join(flags))
        lines += list(fn.after)
        if options.warm:
            lines += list(_warm_job(fn.name, TARGETS[fn.spec.kind][0]))
    return "\n".join(lines) + "\n"


def render_env(env: dict[str, str]) -> str:
    """YAML for --env-vars-file: each value a JSON string, which YAML reads as the same string."""
    return "".join(f"{name}: {json.dumps(value)}\n" for name, value in env.items())


def render(plan: Plan) -> dict[str, str | bytes]:
    app, app_ref, functions = plan
    files: dict[str, str | bytes] = {
        "main.py": render_main(app, app_ref, functions),
        "requirements.txt": f"# what main.py needs on Cloud Functions ({RUNTIME})\ncorefn[gcp{jwt_extra(app.handlers)}]=={__version__}\n"
        "functions-framework>=3.5\ngoogle-events>=0.14\n" + "".join(f"{line}\n" for line in app_requirements(app_ref)),
        "deploy.sh": render_deploy(app, functions),
    }
    for fn in functions:
        files[f"env/{fn.name}.yaml"] = render_env(fn.env) + sink_notes(app)
    return files
