"""``corefn deploy --cloud knative``: one container image for the app, and per handler a Knative
Service, its ServiceAccount and what feeds it; plus the IBM Code Engine variant.

Written files::

    Dockerfile                  the app's image: requirements.txt from PyPI, the bundle in app/
    requirements.txt            third-party packages only (corefn is vendored), pinned from deploy/locks/knative-python3.12.txt
    app/                        the bundle (written by ``corefn deploy``: :mod:`corefn.bundle`)
    knative/<handler>.yaml      ServiceAccount, Service and its Trigger / PingSource / KafkaSource
    knative/brokers.yaml        the Brokers the Triggers and dead letters name
    knative/flows.yaml          the flow engine's Service and its minute tick (apps with flows)
    codeengine.sh               the same app on IBM Cloud Code Engine (`ibmcloud ce` commands)
    README.md                   build, secrets, apply; which sink backends fit a self-hosted cluster

What each declaration becomes (Knative Serving / Eventing v1 resources):

- every handler: a ``serving.knative.dev/v1`` Service running the image with ``COREFN_HANDLER``
  pinned, its own ServiceAccount (no API token mounted), ``memory`` as the container's memory
  request and limit, ``timeout`` as ``timeoutSeconds``, ``concurrency`` as at most that many
  replicas of one request each (``max-scale`` with ``containerConcurrency: 1``), ``warm`` as
  ``min-scale: 1`` (Knative keeps an instance rather than being pinged), ``env`` as variables and
  the URLs of the sinks it uses (``uses=``, else all) and the API key from the ``<app>-secrets`` Secret (``secretKeyRef``; no Secret
  with values is ever written). Event handlers are ``cluster-local``: only the cluster reaches them.
- topic: a Trigger on the Broker (``provider={"knative": {"broker": ...}}``, default ``default``)
  filtering ``type`` = the declared type (``provider={"knative": {"type": ...}}``), or else corefn's
  own ``dev.corefn.topic.message`` events whose ``source`` is the topic (what the ``knative://``
  Broker publisher sends, :mod:`corefn_knative.sinks.broker`);
- storage: a Trigger per operation for corefn's own ``dev.corefn.storage.<operation>`` events of
  the bucket, and the MinIO webhook commands in the README (the store posts to ``/_corefn/s3``);
- queue and stream: a KafkaSource on the topic of that name (``ordering: ordered`` for streams
  and ordered queues), its brokers from ``provider={"knative": {"bootstrap_servers": ...}}`` or
  ``$KAFKA_BOOTSTRAP_SERVERS`` at apply time;
- timer: a PingSource with the cron ``schedule`` and its ``timezone``;
- every Trigger and KafkaSource gets the ``delivery`` its retry policy compiles to
  (:mod:`corefn_knative.policy`: retries, exponential backoff, a dead-letter Broker); the
  README lists what Knative cannot do of the policy.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from corefn.app import App
from corefn.errors import ConfigurationError
from corefn.loader import bundled_ref
from corefn.policy import CompiledPolicy
from corefn.specs import (
    HandlerSpec,
    HttpTrigger,
    InvokeTrigger,
    QueueTrigger,
    StorageTrigger,
    StreamTrigger,
    TimerTrigger,
    TopicTrigger,
    Trigger,
)
from corefn_knative._bind import declared_type
from corefn_knative._flows_deploy import engine_env, flow_engine
from corefn_knative.cloudevent import TYPES
from corefn_knative.runtime import WEBHOOK_TOKEN_ENV

PYTHON_IMAGE = "python:3.12-slim"
SERVICE = {"apiVersion": "serving.knative.dev/v1", "kind": "Service"}
BROKER = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker"}
UNSUPPORTED = {
    "nosql": "Knative has no change-feed source for a NoSQL table",
    "authorizer": "an API Gateway authorizer has no Knative equivalent (use the app's own HTTP auth, corefn.auth)",
}


def k8s_name(*parts: str, limit: int = 50) -> str:
    """A DNS-1035 label (lower-case letters, digits, '-', starting with a letter). Knative names a
    Service's revisions ``<service>-00001`` within 63 characters, so names stay within ``limit``;
    a longer one is cut and given a hash of the whole, so two long names never collide."""
    text = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    text = re.sub(r"-{2,}", "-", text)
    if not text or not text[0].isalpha():
        text = "h-" + text
    if len(text) > limit:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6]
        text = text[: limit - 7].rstrip("-") + "-" + digest
    return text


def secret_name(app: App) -> str:
    return k8s_name(app.name, "secrets")


def service_name(app: App, spec: HandlerSpec) -> str:
    return k8s_name(app.name, spec.name)


def knative_options(spec: HandlerSpec) -> dict[str, Any]:
    return dict(spec.options.provider.get("knative", {}))


def compiled(app: App, spec: HandlerSpec) -> CompiledPolicy:
    from corefn.policy import retry_policy
    from corefn_knative.policy import compile_policy

    return compile_policy(app, retry_policy(app, spec))


def delivery(app: App, spec: HandlerSpec) -> dict[str, Any]:
    """Knative's DeliverySpec from the handler's retry policy (:mod:`corefn_knative.policy`)."""
    found: dict[str, Any] = compiled(app, spec).settings["delivery"]
    return found


def sink_ref(app: App, spec: HandlerSpec) -> dict[str, Any]:
    return {"ref": {**SERVICE, "name": service_name(app, spec)}}


def secret_keys(app: App, spec: HandlerSpec | None = None) -> list[str]:
    """The ``<app>-secrets`` keys a handler's Service reads (every handler's, without ``spec``):
    the URLs of the sinks it uses (``uses=``, else all) and the API key when it checks one."""
    from corefn.policy import used_sinks

    handlers = app.handlers if spec is None else (spec,)
    keys: list[str] = []
    for handler in handlers:
        keys += [sink.env_var for sink in used_sinks(app, handler) if sink.env_var not in keys]
    if any(h.options.api_key for h in handlers):
        keys.append(app.api_key_env)
    if any(h.kind == "storage" for h in handlers):
        keys.append(WEBHOOK_TOKEN_ENV)  # what the object store's webhook must send (runtime.py)
    if app.flows:  # any handler may start a run: the flows' state table (corefn_knative.flows)
        from corefn_knative.flows import state_table

        table = state_table(app).env_var
        keys += [table] if table not in keys else []
    return keys


# --------------------------------------------------------------------------- resources


def service_account(app: App, spec: HandlerSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": service_name(app, spec), "labels": _labels(app, spec)},
        "automountServiceAccountToken": False,
    }


def knative_service(app: App, spec: HandlerSpec, app_ref: str) -> dict[str, Any]:
    options = spec.options
    env: list[dict[str, Any]] = [
        {"name": "COREFN_APP", "value": bundled_ref(app_ref)},
        {"name": "COREFN_HANDLER", "value": spec.name},
    ]
    env += [{"name": k, "value": v} for k, v in sorted(options.env.items())]
    env += [{"name": key, "valueFrom": {"secretKeyRef": {"name": secret_name(app), "key": key}}} for key in secret_keys(app, spec)]
    env += engine_env(app)
    container: dict[str, Any] = {
        "image": "${IMAGE}",
        "env": env,
        "ports": [{"containerPort": 8080}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    }
    if options.memory:
        container["resources"] = {"requests": {"memory": f"{options.memory}Mi"}, "limits": {"memory": f"{options.memory}Mi"}}
    annotations: dict[str, str] = {}
    if options.warm:
        annotations["autoscaling.knative.dev/min-scale"] = "1"
    revision: dict[str, Any] = {"serviceAccountName": service_name(app, spec), "containers": [container]}
    if options.concurrency:
        annotations["autoscaling.knative.dev/max-scale"] = str(options.concurrency)
        revision["containerConcurrency"] = 1
    if options.timeout:
        revision["timeoutSeconds"] = math.ceil(options.timeout)
    labels = _labels(app, spec)
    if spec.kind != "http":  # events come from inside the cluster only
        labels["networking.knative.dev/visibility"] = "cluster-local"
    template: dict[str, Any] = {"spec": revision}
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return {**SERVICE, "metadata": {"name": service_name(app, spec), "labels": labels}, "spec": {"template": template}}


def _topic_feeds(app: App, spec: HandlerSpec, trigger: TopicTrigger) -> list[dict[str, Any]]:
    declared = declared_type(spec)
    attributes = {"type": declared} if declared else {"type": TYPES["topic"], "source": f"/corefn/topic/{spec.resource}"}
    return [_trigger(app, spec, service_name(app, spec), attributes, knative_options(spec))]


def _storage_feeds(app: App, spec: HandlerSpec, trigger: StorageTrigger) -> list[dict[str, Any]]:
    name, source = service_name(app, spec), f"/corefn/storage/{spec.resource}"
    return [
        _trigger(app, spec, k8s_name(name, op.replace("_", "-")), {"type": TYPES["storage"] + op, "source": source}, knative_options(spec))
        for op in trigger.operations
    ]


def _kafka_feeds(app: App, spec: HandlerSpec, trigger: QueueTrigger | StreamTrigger) -> list[dict[str, Any]]:
    name = service_name(app, spec)
    return [{
        "apiVersion": "sources.knative.dev/v1",
        "kind": "KafkaSource",
        "metadata": {"name": name, "labels": _labels(app, spec)},
        "spec": {
            "consumerGroup": name,
            "bootstrapServers": _servers(knative_options(spec)),
            "topics": [spec.resource],
            "initialOffset": getattr(trigger, "start", "earliest"),
            "ordering": "ordered" if spec.ordered else "unordered",
            "delivery": delivery(app, spec),
            "sink": sink_ref(app, spec),
        },
    }]


def _timer_feeds(app: App, spec: HandlerSpec, trigger: TimerTrigger) -> list[dict[str, Any]]:
    return [{
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": {"name": service_name(app, spec), "labels": _labels(app, spec)},
        "spec": {
            "schedule": trigger.schedule,
            "timezone": trigger.tz,
            "contentType": "application/json",
            "data": json.dumps({"corefn": "timer", "name": spec.name}),
            "sink": sink_ref(app, spec),
        },
    }]


def _called_directly(app: App, spec: HandlerSpec, trigger: HttpTrigger | InvokeTrigger) -> list[dict[str, Any]]:
    return []  # the Service's own URL is the entry: HTTP routes and direct invokes need no source


#: trigger class -> the Trigger(s) or source delivering its events to the handler's Service; a
#: class missing here (NoSQL change feeds, API Gateway authorizers) has no Knative equivalent and
#: is refused by name in :func:`manifests`
FEEDS: dict[type[Trigger], Callable[[App, HandlerSpec, Any], list[dict[str, Any]]]] = {
    HttpTrigger: _called_directly,
    InvokeTrigger: _called_directly,
    TopicTrigger: _topic_feeds,
    StorageTrigger: _storage_feeds,
    QueueTrigger: _kafka_feeds,
    StreamTrigger: _kafka_feeds,
    TimerTrigger: _timer_feeds,
}


def feeds(app: App, spec: HandlerSpec) -> list[dict[str, Any]]:
    """The Trigger(s) or source that deliver ``spec``'s events to its Service."""
    return FEEDS[type(spec.trigger)](app, spec, spec.trigger)


def _trigger(app: App, spec: HandlerSpec, name: str, attributes: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "labels": _labels(app, spec)},
        "spec": {
            "broker": str(opts.get("broker", "default")),
            "filter": {"attributes": attributes},
            "subscriber": sink_ref(app, spec),
            "delivery": delivery(app, spec),
        },
    }


def _servers(opts: dict[str, Any]) -> list[str]:
    servers = opts.get("bootstrap_servers")
    if servers is None:
        return ["${KAFKA_BOOTSTRAP_SERVERS}"]
    return [servers] if isinstance(servers, str) else [str(s) for s in servers]


def _labels(app: App, spec: HandlerSpec) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": k8s_name(app.name), "corefn.dev/handler": k8s_name(spec.name)}


def brokers(app: App) -> list[dict[str, Any]]:
    """Every Broker a Trigger or a dead letter names (the default one included)."""
    names: set[str] = set()
    for spec in app.handlers:
        if spec.kind in ("topic", "storage", "queue", "stream"):
            names.add(delivery(app, spec)["deadLetterSink"]["ref"]["name"])
        if spec.kind in ("topic", "storage"):
            names.add(str(knative_options(spec).get("broker", "default")))
    return [{**BROKER, "metadata": {"name": n, "labels": {"app.kubernetes.io/part-of": k8s_name(app.name)}}} for n in sorted(names)]


# ----------------------------------------------------------------------------------- files


def to_yaml(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML. JSON is YAML: each document is written as indented JSON, so the
    generator needs no YAML library and the output is exact."""
    return "".join(f"---\n{json.dumps(doc, indent=2)}\n" for doc in documents)


def manifests(app: App, app_ref: str) -> dict[str, list[dict[str, Any]]]:
    """Relative path → the documents it holds (what :func:`render` writes and the tests validate)."""
    refused = [f"{s.name!r} ({s.kind}: {UNSUPPORTED.get(s.kind, 'no Knative source delivers this kind')})"
               for s in app.handlers if type(s.trigger) not in FEEDS]
    if refused:
        raise ConfigurationError(f"cannot deploy to Knative: {'; '.join(refused)}")
    out: dict[str, list[dict[str, Any]]] = {}
    for spec in app.handlers:
        out[f"knative/{k8s_name(spec.name)}.yaml"] = [service_account(app, spec), knative_service(app, spec, app_ref), *feeds(app, spec)]
    found = brokers(app)
    if found:
        out["knative/brokers.yaml"] = found
    if app.flows:
        out["knative/flows.yaml"] = flow_engine(app, app_ref)
    return out


#: the image's Python (``FROM python:3.12-slim``) and the lock its packages are pinned from
RUNTIME = "python3.12"


def requirements(app: App, app_ref: str) -> str:
    """What the image installs from PyPI: third-party packages only (corefn itself is vendored
    under ``app/`` by ``corefn deploy``), the whole closure pinned from
    ``deploy/locks/knative-python3.12.txt`` (checked for amd64 and arm64 nodes), so the Dockerfile
    installs exactly these with ``--no-deps``."""
    from corefn.bundle import requirement_names
    from corefn.deploy_lock import lock_for, requirements_txt

    wanted = list(requirement_names(app, app_ref, "knative"))
    if any(sink.kind == "object" for sink in app.sinks):
        wanted.append("boto3>=1.34")  # the S3-compatible backend (cos://) a self-hosted cluster's stores use
    return requirements_txt(lock_for("knative", RUNTIME), wanted, f"{app.name}'s Knative image ({RUNTIME})")


def dockerfile(app_ref: str) -> str:
    return (
        "# The app's image, built from this folder: docker build -t IMAGE .\n"
        "# (app/ is the bundle corefn deploy wrote: the app, its modules, corefn and this adapter)\n"
        f"FROM {PYTHON_IMAGE}\n"
        "ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        "COPY requirements.txt /requirements.txt\n"
        "# the full closure, pinned from corefn's lock: nothing else may come in\n"
        "RUN pip install --no-deps --only-binary=:all: -r /requirements.txt\n"
        "WORKDIR /app\n"
        "COPY app/ /app/\n"
        "# a numeric user, so Kubernetes can enforce runAsNonRoot\n"
        "USER 65532\n"
        f"ENV COREFN_APP={bundled_ref(app_ref)} PORT=8080 PYTHONPATH=/app\n"
        "EXPOSE 8080\n"
        'CMD ["python", "-m", "corefn_knative.runtime"]\n'
    )


class Plan(NamedTuple):
    """The app's deployment on Knative: its manifests as documents, what :func:`render` writes."""

    app: App
    app_ref: str
    manifests: dict[str, list[dict[str, Any]]]


def plan(app: App, app_ref: str) -> Plan:
    return Plan(app, app_ref, manifests(app, app_ref))


def render(plan: Plan) -> dict[str, str | bytes]:
    from corefn_knative.codeengine import codeengine_script, readme

    app, app_ref, documents = plan
    files: dict[str, str | bytes] = {path: to_yaml(docs) for path, docs in documents.items()}
    files["Dockerfile"] = dockerfile(app_ref)
    files["requirements.txt"] = requirements(app, app_ref)
    files["codeengine.sh"] = codeengine_script(app, app_ref)
    files["README.md"] = readme(app)
    return files
