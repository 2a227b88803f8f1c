"""The Google Cloud resources a corefn app needs, as data: what ``deploy.sh`` creates and grants,
what ``teardown.sh`` removes, and what the tests compare with the app's declarations.

Names. Cloud Storage bucket names are global (https://cloud.google.com/storage/docs/buckets#naming):
a bucket is ``${PREFIX}-<logical name>``, PREFIX a script parameter (default: the project id, itself
globally unique). Topics, subscriptions, secrets, service accounts and functions live in the
project, so their names are fixed at generation; dev and prod are two projects (Google's own advice:
https://cloud.google.com/architecture/framework/security/resource-management).

Identities. Each handler's functions run as their own service account
(https://cloud.google.com/functions/docs/securing/function-identity), granted only the roles its
``uses=`` sinks declare (the sink backends' ``permissions``), each on the one bucket, topic, secret
or database; the default compute account (``roles/editor`` in older projects) is never used. One
*invoker* account is what Pub/Sub push subscriptions, Cloud Scheduler and Eventarc (Firestore) triggers
authenticate as: ``roles/run.invoker`` on each function it calls, ``roles/eventarc.eventReceiver`` on
the project (the only scope that role has: https://cloud.google.com/eventarc/docs/access-control).

Service agents (https://cloud.google.com/iam/docs/service-agents): the Cloud Storage agent
publishes a watched bucket's notifications (``roles/pubsub.publisher`` on that bucket's topic only:
https://cloud.google.com/storage/docs/reporting-changes#prereqs); the Pub/Sub agent
forwards dead letters (publisher on the dead-letter topic, subscriber on the source subscription:
https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions) and mints the
push subscriptions' OIDC tokens (token creator on the invoker account:
https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions).

Builds. Cloud Build builds each function as the app's *builder* account, granted
``roles/cloudbuild.builds.builder`` (https://cloud.google.com/functions/docs/securing/build-custom-sa):
projects created since 2024 no longer give the default build account the roles it needs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.sinks.base import Permission
    from corefn.specs import HandlerSpec, SinkSpec

#: the Cloud Run functions runtime every function is deployed on (and the lock pins wheels for)
RUNTIME = "python312"


#: every API the script may use, enabled first (``gcloud services enable`` is idempotent)
APIS = (
    "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com", "artifactregistry.googleapis.com",
    "eventarc.googleapis.com", "pubsub.googleapis.com", "storage.googleapis.com", "iam.googleapis.com",
    "logging.googleapis.com",
)  # fmt: skip
#: APIs a feature brings: resource kind → API
FEATURE_APIS = {
    "firestore": "firestore.googleapis.com",
    "secrets": "secretmanager.googleapis.com",
    "scheduler": "cloudscheduler.googleapis.com",
    "network": "vpcaccess.googleapis.com",
    "workflows": "workflows.googleapis.com",
    "executions": "workflowexecutions.googleapis.com",
}
#: sink family → the URL scheme of its Google backend and the backend class (module:Class)
BACKENDS = {
    "object": ("gs", "corefn_gcp.sinks.gcs:GcsStore"),
    "table": ("firestore", "corefn_gcp.sinks.firestore:FirestoreTable"),
    "publisher": ("pubsub", "corefn_gcp.sinks.pubsub:PubSubPublisher"),
}
#: sink families with no serverless Google service: their URL (with its password) is a secret the
#: operator fills, and their functions reach them over the VPC (Cloud SQL private IP, Memorystore)
NETWORKED = ("sql", "cache")
#: Pub/Sub's bounds for ``--max-delivery-attempts`` (https://cloud.google.com/pubsub/docs/handling-failures)
MIN_ATTEMPTS, MAX_ATTEMPTS = 5, 100
#: how long a dead-letter subscription keeps messages: Pub/Sub's maximum for a subscription
#: (https://cloud.google.com/pubsub/docs/subscription-properties#retention_duration)
DEAD_LETTER_RETENTION = "7d"


@dataclass(frozen=True, slots=True)
class Grant:
    """One IAM binding: ``role`` on one resource. ``on`` is the resource type (``bucket``,
    ``topic``, ``subscription``, ``secret``, ``service-account``, ``function``, ``project``);
    ``name`` its logical name (a bucket's gets the prefix when rendered); ``condition`` a CEL
    expression for project bindings narrowed to one resource."""

    role: str
    on: str
    name: str
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """A function's own service account: its account id (6-30 characters) and its grants."""

    handler: str
    account_id: str
    grants: tuple[Grant, ...]
    networked: bool = False


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """A push subscription corefn owns (Eventarc's own cannot take a dead-letter policy)."""

    name: str
    topic: str
    function: str
    ordered: bool
    ack_deadline: int
    dead_letter: str | None
    max_attempts: int | None
    min_retry_delay: str = "10s"
    max_retry_delay: str = "600s"


@dataclass(slots=True)
class Infra:
    apis: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    firestore: bool = False
    topics: list[str] = field(default_factory=list)
    #: dead-letter topic → the pull subscription that keeps its messages (``corefn dead``)
    dead_letters: dict[str, str] = field(default_factory=dict)
    subscriptions: list[PushSubscription] = field(default_factory=list)
    #: watched bucket → its Pub/Sub notification config
    notifications: dict[str, Notification] = field(default_factory=dict)
    #: secret id → what it holds (the README and the script's message say it)
    secrets: dict[str, str] = field(default_factory=dict)
    identities: dict[str, Identity] = field(default_factory=dict)
    invoker: str = ""
    #: the account Cloud Build builds the functions as (``--build-service-account``)
    builder: str = ""
    network: bool = False


def account_id(name: str) -> str:
    """A service account id from a function name: 6-30 characters, ``[a-z][a-z0-9-]*[a-z0-9]``
    (https://cloud.google.com/iam/docs/service-accounts-create#creating); a longer name keeps its
    start and gets a short hash, so two long names never meet."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "fn"
    if not base[0].isalpha():
        base = f"fn-{base}"
    if len(base) <= 30:
        return base.ljust(6, "0")
    digest = hashlib.sha256(base.encode()).hexdigest()[:5]
    return f"{base[:24].rstrip('-')}-{digest}"


@dataclass(frozen=True, slots=True)
class Notification:
    """A Cloud Storage Pub/Sub notification (https://cloud.google.com/storage/docs/pubsub-notifications):
    the watched bucket publishes its object changes, JSON payload, to ``topic``; ``event_types``
    the union of what its handlers watch; ``prefix`` only when every handler shares it (GCS
    filters by prefix alone: each handler's own prefix and suffix are checked by corefn's
    dispatch, which skips and acknowledges the rest)."""

    bucket: str
    topic: str
    event_types: tuple[str, ...]
    prefix: str = ""


def storage_topic(app_name: str, bucket: str) -> str:
    """The topic a watched bucket's notifications go to: letters first, 3-255 characters of
    ``[A-Za-z0-9-_.~+%]``, never starting with ``goog`` (https://cloud.google.com/pubsub/docs/create-topic#resource_names)."""
    name = re.sub(r"[^A-Za-z0-9_.~+%-]+", "-", f"{app_name}-{bucket}-events")
    if not name[0].isalpha() or name.lower().startswith("goog"):
        name = f"corefn-{name}"
    return name[:255]


def dead_letter_topic(topic: str) -> str:
    return f"{topic}-dead-letter"


def dead_letter_subscription(topic: str) -> str:
    return f"{topic}-pull"


def secret_id(app: App, what: str) -> str:
    """Secret Manager ids: letters, digits, ``-`` and ``_``, at most 255."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{app.name}-{what}")[:255]


def _backend(family: str) -> Any:
    import importlib

    module, _, cls = BACKENDS[family][1].partition(":")
    return getattr(importlib.import_module(module), cls)


def sink_grants(sink: SinkSpec) -> list[Grant]:
    """The roles a sink's backend declares for the Google service behind it, as bindings on the
    one resource (Firestore's IAM stops at the database: a project binding with a condition on
    its name, https://cloud.google.com/firestore/docs/security/iam#conditions)."""
    if sink.family not in BACKENDS:
        return []
    scheme = BACKENDS[sink.family][0]
    permissions: list[Permission] = _backend(sink.family).permissions(f"{scheme}://{sink.name}", sink.family)
    grants: list[Grant] = []
    for permission in permissions:
        if permission.cloud != "gcp":
            continue
        for role in permission.actions:
            resource = permission.resource
            if match := re.fullmatch(r"projects/_/buckets/(.+)", resource):
                grants.append(Grant(role, "bucket", match[1]))
            elif match := re.fullmatch(r"projects/[^/]+/topics/(.+)", resource):
                grants.append(Grant(role, "topic", match[1]))
            elif match := re.fullmatch(r"projects/[^/]+/databases/(.+)", resource):
                grants.append(Grant(role, "project", match[1], f'resource.name=="projects/$PROJECT/databases/{match[1]}"'))
            elif resource == "serviceAccounts/self":
                grants.append(Grant(role, "service-account", "self"))
            else:
                raise ConfigurationError(f"sink {sink.name!r}: cannot scope the grant {role} on {resource!r}")
    return grants


def identity(app: App, spec: HandlerSpec, function: str) -> Identity:
    from corefn.policy import used_sinks

    grants: list[Grant] = []
    networked = False
    for sink in used_sinks(app, spec):
        grants += [g for g in sink_grants(sink) if g not in grants]
        if sink.family in NETWORKED:
            networked = True
            grants.append(Grant("roles/secretmanager.secretAccessor", "secret", secret_id(app, f"sink-{sink.name}")))
    if spec.kind == "http" and spec.options.api_key:
        grants.append(Grant("roles/secretmanager.secretAccessor", "secret", secret_id(app, "api-key")))
    return Identity(spec.name, account_id(function), tuple(grants), networked)


def attempts(spec: HandlerSpec, max_attempts: int) -> tuple[int | None, str | None]:
    """Pub/Sub's delivery attempts for the portable count (``None``: retry until the message
    expires), and a note where Pub/Sub's range moves it."""
    if max_attempts == 0:
        return None, None
    bounded = max(MIN_ATTEMPTS, min(MAX_ATTEMPTS, max_attempts))
    if bounded != max_attempts:
        return bounded, f"handler {spec.name!r}: Pub/Sub delivers {MIN_ATTEMPTS}-{MAX_ATTEMPTS} times before dead-lettering; {max_attempts} became {bounded}"
    return bounded, None
