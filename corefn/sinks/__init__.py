"""Sinks: where handlers write, bound to a real service by configuration, never by code.

Each declared sink reads its backend URL from, in order:

1. the environment variable ``COREFN_SINK_<NAME>`` (``COREFN_SINK_THUMBNAILS=s3://my-thumbs``);
2. the ``[sinks]`` table of the config file named by ``COREFN_CONFIG`` (default ``corefn.toml``
   in the working directory): ``thumbnails = "s3://my-thumbs"``;
3. the local default for its kind, under the state folder ``COREFN_STATE_DIR`` (``.corefn``):
   a folder for objects, SQLite for tables and SQL, an in-process cache, the local runtime's
   durable queue for publishers. **Never on a cloud**: inside a cloud function (detected from the
   runtime's own environment, :data:`CLOUD_MARKERS`) a sink with no URL is a
   :class:`~corefn.errors.ConfigurationError` naming the sink and its setting, raised at cold
   start for every sink the function uses (:func:`check_configured`), so a misconfigured
   deployment fails loudly instead of writing into its container's disk.

A value may be a secret reference (``secretsmanager:arn:...``, see :mod:`corefn.secrets`): it is
fetched once per process and never appears in the function's configuration.

The URL's scheme picks the backend through the ``corefn.sinks`` entry-point group (name =
scheme, value = a factory ``(spec, url) -> backend``), so a backend shared by several clouds is
written once and a third party can add one. Nothing is imported until a sink is first used, and
the backend is then kept for the life of the process (warm invocations reuse its client).

Backend URLs (details in each module's docstring; ``?region=`` works on every AWS URL):

=============================================  ==========  ============================================
URL                                            sink kind   service (module)
=============================================  ==========  ============================================
``file:///abs/folder``                         object      a folder on disk (:mod:`.files`); corefn's
                                                           sidecar folder inside it is ``.corefn-meta/``
``sqlite:////abs/file.db``                     table       SQLite, one table per sink (:mod:`.sqlite`)
``sqlite:////abs/file.db``, ``sqlite://``      sql         SQLite through SQLAlchemy
``memory://name``                              cache       this process's memory (:mod:`.memory`)
``redis://[:pw@]host:port/db``, ``rediss://``  cache       any Redis: ElastiCache, Azure Cache for Redis,
                                                           Memorystore, IBM Databases for Redis
                                                           (:mod:`.rediscache`)
``postgresql://``, ``mysql://``,               sql         any SQLAlchemy URL (:mod:`.sqlalchemy_sql`):
``mssql+pyodbc://``, ``db2+ibm_db://`` ...                 RDS, Azure SQL, Cloud SQL, Db2
``local://name``                               publisher   the local runtime's durable queue
``cos://bucket[/prefix]?endpoint=https://...`` object      IBM Cloud Object Storage (S3 API, HMAC keys;
                                                           :mod:`.s3compat`)
``s3compat://bucket?endpoint=http://...``      object      any S3 API: MinIO, Ceph, R2 (:mod:`.s3compat`)
``kafka://broker:port[,...]/topic``            publisher   any Kafka: IBM Event Streams, MSK, Confluent
                                                           (:mod:`.kafka`)
``s3://bucket[/prefix]``                       object      Amazon S3 (:mod:`corefn_aws.sinks.s3`)
``dynamodb://table``                           table       Amazon DynamoDB
``sqs://queue[.fifo][?account=ID]``            publisher   Amazon SQS
``sns://topic``, ``sns://arn:aws:sns:...``     publisher   Amazon SNS
``kinesis://stream``                           publisher   Amazon Kinesis Data Streams
``az://container``, ``az://account/container`` object      Azure Blob Storage (:mod:`corefn_azure.sinks`)
``aztable://table``, ``cosmos://a/db/c``       table       Azure Table Storage, Cosmos DB
``azqueue://queue``, ``servicebus://ns/q``     publisher   Azure Queue Storage, Service Bus
``eventhub://ns/hub``                          publisher   Azure Event Hubs
``gs://bucket``                                object      Google Cloud Storage (:mod:`corefn_gcp.sinks`)
``firestore://[project/]collection``           table       Firestore
``pubsub://[project/]topic``                   publisher   Pub/Sub
``cloudant://[host/]db``                       table       IBM Cloudant (:mod:`corefn_openwhisk.sinks`)
=============================================  ==========  ============================================

Backends answer without connecting: ``permissions(url, kind)`` gives least-privilege grants
for deploy, and ``private_network`` (class attribute) / ``needs_private_network(url)`` (per
URL, where the host decides) say whether the service is only reachable from inside a VPC
(ElastiCache, Memorystore; read by the lock-in report and ``corefn check``).
"""

from __future__ import annotations

import os
from _thread import allocate_lock

from corefn.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from corefn.app import App
    from corefn.specs import SinkSpec

ENTRY_POINT_GROUP = "corefn.sinks"

#: the local backend URL of each sink kind when nothing is configured ({state}, {name} filled in)
LOCAL_DEFAULTS: dict[str, str] = {
    "object": "file://{state}/objects/{name}",
    "table": "sqlite:///{state}/tables.db",
    "cache": "memory://{name}",
    "sql": "sqlite:///{state}/sql-{name}.db",
    "publisher": "local://{name}",
}


#: environment variable each cloud's runtime sets in every function → cloud name. Only the
#: platform sets these (Lambda: AWS_LAMBDA_FUNCTION_NAME; Azure Functions: FUNCTIONS_WORKER_RUNTIME
#: and WEBSITE_SITE_NAME on the App Service host; Cloud Run functions: K_SERVICE, and
#: FUNCTION_TARGET on 1st gen; OpenWhisk: __OW_ACTION_NAME in every activation).
CLOUD_MARKERS: tuple[tuple[str, str], ...] = (
    ("AWS_LAMBDA_FUNCTION_NAME", "aws"),
    ("WEBSITE_SITE_NAME", "azure"),
    ("FUNCTIONS_WORKER_RUNTIME", "azure"),
    ("K_SERVICE", "gcp"),
    ("FUNCTION_TARGET", "gcp"),
    ("__OW_ACTION_NAME", "openwhisk"),
)


def running_cloud() -> str | None:
    """The cloud this process runs in, from the platform's own environment; ``None`` locally
    (and under ``corefn run``, which sets ``COREFN_RUNTIME=local``)."""
    if os.environ.get("COREFN_RUNTIME") == "local":
        return None
    for var, cloud in CLOUD_MARKERS:
        if os.environ.get(var):
            return cloud
    return None


def state_dir() -> Path:
    """The folder local backends and the local runtime keep their state in."""
    from pathlib import Path  # not at import: pathlib imports re and enum, a cold start needs neither

    return Path(os.environ.get("COREFN_STATE_DIR", ".corefn")).absolute()


def _config_file_sinks() -> dict[str, str]:
    path = os.environ.get("COREFN_CONFIG", "corefn.toml")
    if not os.path.isfile(path):
        return {}
    import tomllib

    try:
        with open(path, "rb") as file:  # TOML is UTF-8 (toml.io, "Spec"), whatever the locale
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    sinks = data.get("sinks", {})
    if not isinstance(sinks, dict) or not all(isinstance(v, str) for v in sinks.values()):
        raise ConfigurationError(f"{path}: [sinks] must map sink names to URL strings")
    return sinks


def sink_url(spec: SinkSpec) -> str:
    """The backend URL configured for ``spec`` (see the module docstring for the order)."""
    url = os.environ.get(spec.env_var) or _config_file_sinks().get(spec.name)
    if url:
        from corefn.secrets import resolve

        return resolve(url, spec.env_var)
    cloud = running_cloud()
    if cloud is not None:
        raise ConfigurationError(
            f"sink {spec.name!r} has no URL: set {spec.env_var} in this {cloud} function's configuration "
            "(local defaults are for `corefn run` and tests only)"
        )
    return LOCAL_DEFAULTS[spec.kind].format(state=state_dir().as_posix(), name=spec.name)


def check_configured(app: App, handler: str | None = None) -> None:
    """Cold-start check on a cloud: every sink the function uses (``uses=`` of the pinned
    ``handler``, else all the app's sinks) has a URL; secret references are fetched now, once."""
    if handler is not None and handler in {s.name for s in app.handlers}:
        from corefn.policy import used_sinks

        sinks = used_sinks(app, app.handler(handler))
    else:
        sinks = app.sinks
    missing = [s for s in sinks if not (os.environ.get(s.env_var) or _config_file_sinks().get(s.name))]
    if missing:
        settings = ", ".join(f"{s.name!r} ({s.env_var})" for s in missing)
        raise ConfigurationError(
            f"running on {running_cloud() or 'a cloud'} with no URL for sink(s) {settings}: set them in the "
            "function's configuration (local defaults are for `corefn run` and tests only)"
        )
    for spec in sinks:
        sink_url(spec)


def scheme_of(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigurationError(f"sink URL {url!r} has no scheme (e.g. s3://bucket, file:///path)")
    return scheme.lower()


def backend_factory(scheme: str) -> Any:
    """The factory registered for ``scheme`` in the ``corefn.sinks`` entry-point group."""
    factories: dict[str, Any] | None = getattr(backend_factory, "_cached", None)
    if factories is None:
        from importlib.metadata import entry_points

        factories = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        backend_factory._cached = factories  # type: ignore[attr-defined]
    found = factories.get(scheme)
    if found is None:
        raise ConfigurationError(f"no sink backend for scheme {scheme!r}; installed: {', '.join(sorted(factories))}")
    if not callable(found):
        found = factories[scheme] = found.load()
    return found


def open_sink(spec: SinkSpec, url: str | None = None) -> Any:
    """A backend for ``spec`` at ``url`` (default: the configured URL); a publisher declared with
    ``cloudevents=True`` sends CloudEvents (:mod:`corefn.cloudevents.bindings`)."""
    url = url or sink_url(spec)
    backend = backend_factory(scheme_of(url))(spec, url)
    if spec.options.get("cloudevents") is not None:
        from corefn.cloudevents.publisher import StructuredPublisher, cloudevents_wanted

        if cloudevents_wanted(spec) and not getattr(backend, "sends_cloudevents", False):
            return StructuredPublisher(spec, backend)
    return backend


class SinkHandle:
    """What ``app.object_store("x")`` and friends return: a stand-in that opens the configured
    backend on first use and then forwards every call to it. Thread-safe; one backend (and so
    one SDK client) per sink per process."""

    __slots__ = ("_app", "_spec", "_backend", "_lock")

    def __init__(self, app: App, spec: SinkSpec) -> None:
        self._app = app
        self._spec = spec
        self._backend: Any = None
        self._lock = allocate_lock()  # threading.Lock itself, without importing threading

    @property
    def spec(self) -> SinkSpec:
        return self._spec

    @property
    def backend(self) -> Any:
        backend = self._backend
        if backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = open_sink(self._spec)
                backend = self._backend
        return backend

    def bind(self, backend: Any) -> None:
        """Use ``backend`` instead of the configured one (tests, the local runtime)."""
        with self._lock:
            self._backend = backend

    def reset(self) -> None:
        """Forget the backend so the next call re-reads configuration."""
        with self._lock:
            self._backend = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def __repr__(self) -> str:
        state = type(self._backend).__name__ if self._backend is not None else "not opened"
        return f"<{self._spec.kind} sink {self._spec.name!r}: {state}>"
