"""The frozen declarations an :class:`~corefn.app.App` collects.

One declaration feeds everything: the dispatcher routes by it, the local runtime schedules by it,
the deploy generators, the permission builder and the lock-in report read it. So it is data, not
behaviour, and it is frozen: a generator can never change what the runtime will do.

Extending without breaking: every field has a default, and provider-specific knobs that have no
portable meaning go in ``Options.provider`` (``{"aws": {"reserved_concurrency": 5}}``) rather than
into new top-level fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from corefn._aliases import alias, missing
from corefn._record import Record, _set
from corefn.errors import ConfigurationError
from corefn.events.storage import STORAGE_OPERATIONS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Literal

    from corefn.auth import Jwt
    from corefn.events.storage import StorageOperation

_NONE: Mapping[str, Any] = {}


class Options(Record):
    """Knobs every trigger may carry; ``None`` means "the provider's default".

    - ``memory``: MB. ``timeout``: seconds a single invocation may run.
    - ``max_attempts``: deliveries before a message or record is dead-lettered (default 5 for
      queues, streams and change feeds alike; ``0`` retries until the record expires).
    - ``backoff``: seconds before the first retry, doubled on each later one (where a cloud has
      a retry delay; :mod:`corefn.policy` compiles it).
    - ``max_age``: seconds a stream / change-feed record may wait before it is dead-lettered.
    - ``dead_letter``: logical name of the queue, topic or bucket that receives poison messages;
      ``None`` lets each provider use its convention (``<queue>-poison`` on Azure, a DLQ on SQS,
      the local runtime's dead-letter table).
    - ``uses``: names of the sinks the handler touches (its function gets only their grants and
      settings); ``None``: every sink of the app.
    - ``batch_size``: records per invocation for poll-based triggers.
    - ``ordered``: deploy an ordered resource (SQS FIFO queue, Service Bus sessions, Pub/Sub
      ordering keys). A message group holds after a failure whatever this says: see
      :mod:`corefn.dispatch`.
    - ``api_key``: HTTP callers must present the app's API key.
    - ``auth``: HTTP callers must present a token this :class:`~corefn.auth.Jwt` accepts;
      ``False`` makes a route public under an app-wide ``auth``.
    - ``concurrency``: upper bound on parallel invocations.
    - ``warm``: keep the function warm with a 5-minute ping (the providers reclaim idle instances
      after a few minutes without traffic and do not publish how long; a ping must short-circuit,
      not run the handler).
    - ``env``: extra environment variables for this function.
    - ``provider``: per-cloud settings with no portable meaning, keyed by cloud name.
    - ``idempotent``: run once per event (``True``, or :class:`~corefn.idempotency.Idempotency`).
    """

    __slots__ = (
        "memory", "timeout", "max_attempts", "dead_letter", "batch_size", "ordered", "api_key",
        "auth", "concurrency", "warm", "env", "provider", "uses", "backoff", "max_age", "idempotent",
    )
    memory: int | None
    timeout: float | None
    max_attempts: int | None
    dead_letter: str | None
    batch_size: int | None
    ordered: bool
    api_key: bool
    auth: Jwt | Literal[False] | None
    concurrency: int | None
    warm: bool
    env: Mapping[str, str]
    provider: Mapping[str, Mapping[str, Any]]
    uses: tuple[str, ...] | None
    backoff: float | None
    max_age: int | None
    idempotent: Any

    def __init__(
        self,
        *,
        memory: int | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        dead_letter: str | None = None,
        batch_size: int | None = None,
        ordered: bool = False,
        api_key: bool = False,
        auth: Jwt | Literal[False] | None = None,
        concurrency: int | None = None,
        warm: bool = False,
        env: Mapping[str, str] = _NONE,
        provider: Mapping[str, Mapping[str, Any]] = _NONE,
        uses: tuple[str, ...] | None = None,
        backoff: float | None = None,
        max_age: int | None = None,
        idempotent: Any = None,
    ) -> None:
        _set(self, "memory", memory)
        _set(self, "timeout", timeout)
        _set(self, "max_attempts", max_attempts)
        _set(self, "dead_letter", dead_letter)
        _set(self, "batch_size", batch_size)
        _set(self, "ordered", ordered)
        _set(self, "api_key", api_key)
        if auth not in (None, False) and type(auth).__name__ != "Jwt":
            raise ConfigurationError(f"auth= takes a corefn.auth.Jwt (or False for a public route), got {auth!r}")
        _set(self, "auth", auth)
        _set(self, "concurrency", concurrency)
        _set(self, "warm", warm)
        _set(self, "env", env)
        _set(self, "provider", provider)
        _set(self, "uses", uses)
        _set(self, "backoff", backoff)
        _set(self, "max_age", max_age)
        _set(self, "idempotent", idempotent)

    def merged(self, **changes: Any) -> Options:
        """A copy with ``changes`` applied, ignoring ``None`` values (the "not given" marker)."""
        return self.replace(**{k: v for k, v in changes.items() if v is not None})  # type: ignore[no-any-return]


OPTION_NAMES = frozenset(Options._fields)


# ------------------------------------------------------------------------------- triggers


class Trigger(Record):
    """Base of the per-kind trigger declarations. ``resource`` is the logical resource name the
    trigger listens to (shared with sinks), or ``None`` for kinds that have none."""

    __slots__ = ()
    kind: ClassVar[str] = "trigger"
    #: the type of resource it listens to in the app's namespace (bucket, queue ...), if any
    resource_type: ClassVar[str | None] = None

    @property
    def resource(self) -> str | None:
        return None


class HttpTrigger(Trigger):
    __slots__ = ("methods", "route")
    kind: ClassVar[str] = "http"
    methods: tuple[str, ...]
    route: str

    def __init__(self, methods: tuple[str, ...], route: str) -> None:
        if not route.startswith("/"):
            raise ConfigurationError(f"HTTP route {route!r} must start with '/'")
        _set(self, "methods", methods)
        _set(self, "route", route)


class StorageTrigger(Trigger):
    __slots__ = ("bucket", "operations", "prefix", "suffix")
    kind: ClassVar[str] = "storage"
    resource_type: ClassVar[str | None] = "bucket"
    bucket: str
    operations: tuple[StorageOperation, ...]
    prefix: str
    suffix: str

    def __init__(
        self, bucket: str, operations: tuple[StorageOperation, ...] = ("created",), prefix: str = "", suffix: str = ""
    ) -> None:
        _set(self, "bucket", bucket)
        _set(self, "operations", operations)
        _set(self, "prefix", prefix)
        _set(self, "suffix", suffix)

    @property
    def resource(self) -> str:
        return self.bucket

    def wants(self, operation: str, key: str) -> bool:
        """Whether an event passes this trigger's filters (clouds filter too; the local runtime
        and replayed events rely on this)."""
        return operation in self.operations and key.startswith(self.prefix) and key.endswith(self.suffix)


class QueueTrigger(Trigger):
    __slots__ = ("queue", "batch")
    kind: ClassVar[str] = "queue"
    resource_type: ClassVar[str | None] = "queue"
    queue: str
    batch: bool

    def __init__(self, queue: str, batch: bool = False) -> None:
        _set(self, "queue", queue)
        _set(self, "batch", batch)

    @property
    def resource(self) -> str:
        return self.queue


class TopicTrigger(Trigger):
    __slots__ = ("topic", "batch", "subscription")
    kind: ClassVar[str] = "topic"
    resource_type: ClassVar[str | None] = "topic"
    topic: str
    batch: bool
    subscription: str | None

    def __init__(self, topic: str, batch: bool = False, subscription: str | None = None) -> None:
        _set(self, "topic", topic)
        _set(self, "batch", batch)
        _set(self, "subscription", subscription)

    @property
    def resource(self) -> str:
        return self.topic


class TimerTrigger(Trigger):
    """``schedule`` is a 5-field cron expression (minute hour day month weekday) evaluated in
    ``tz``; generators translate it to each provider's syntax (EventBridge ``cron()``, Azure's
    6-field NCRONTAB, Cloud Scheduler, the OpenWhisk alarms feed)."""

    __slots__ = ("schedule", "tz")
    kind: ClassVar[str] = "timer"
    schedule: str
    tz: str

    def __init__(self, schedule: str, tz: str = "UTC") -> None:
        if len(schedule.split()) != 5:
            raise ConfigurationError(
                f"timer schedule {schedule!r} must be a 5-field cron expression (minute hour day month weekday)"
            )
        _set(self, "schedule", schedule)
        _set(self, "tz", tz)


class StreamTrigger(Trigger):
    __slots__ = ("stream", "batch", "start")
    kind: ClassVar[str] = "stream"
    resource_type: ClassVar[str | None] = "stream"
    stream: str
    batch: bool
    start: Literal["latest", "earliest"]

    def __init__(self, stream: str, batch: bool = False, start: Literal["latest", "earliest"] = "latest") -> None:
        _set(self, "stream", stream)
        _set(self, "batch", batch)
        _set(self, "start", start)

    @property
    def resource(self) -> str:
        return self.stream


class NoSqlTrigger(Trigger):
    __slots__ = ("table", "batch")
    kind: ClassVar[str] = "nosql"
    resource_type: ClassVar[str | None] = "table"
    table: str
    batch: bool

    def __init__(self, table: str, batch: bool = False) -> None:
        _set(self, "table", table)
        _set(self, "batch", batch)

    @property
    def resource(self) -> str:
        return self.table


class AuthorizerTrigger(Trigger):
    """A gateway's authorizer: ``response`` is the answer form a gateway that offers two wants
    (API Gateway HTTP APIs: ``"simple"`` ``isAuthorized`` or an IAM ``"policy"``; REST APIs and
    TOKEN authorizers always get a policy)."""

    __slots__ = ("response",)
    kind: ClassVar[str] = "authorizer"
    response: Literal["simple", "policy"]

    def __init__(self, response: Literal["simple", "policy"] = "simple") -> None:
        if response not in ("simple", "policy"):
            raise ConfigurationError("authorizer response must be 'simple' or 'policy'")
        _set(self, "response", response)


class InvokeTrigger(Trigger):
    __slots__ = ()
    kind: ClassVar[str] = "invoke"


class HandlerSpec(Record):
    """One declared handler: its name (unique in the app; the deployed function's name), the
    callable, what triggers it, and its options. ``takes_context`` and ``is_async`` are worked
    out once at declaration so the hot path does no introspection."""

    __slots__ = ("name", "handler", "trigger", "options", "takes_context", "is_async")
    name: str
    handler: Callable[..., Any]
    trigger: Trigger
    options: Options
    takes_context: bool
    is_async: bool

    def __init__(
        self,
        *,
        name: str,
        handler: Callable[..., Any],
        trigger: Trigger,
        options: Options | None = None,
        takes_context: bool = False,
        is_async: bool = False,
    ) -> None:
        _set(self, "name", name)
        _set(self, "handler", handler)
        _set(self, "trigger", trigger)
        _set(self, "options", options if options is not None else Options())
        _set(self, "takes_context", takes_context)
        _set(self, "is_async", is_async)

    @property
    def kind(self) -> str:
        return self.trigger.kind

    @property
    def resource(self) -> str | None:
        return self.trigger.resource

    @property
    def batch(self) -> bool:
        return bool(getattr(self.trigger, "batch", False))

    @property
    def ordered(self) -> bool:
        """Streams and change feeds are always ordered (per partition / shard); queues and topics
        when asked (FIFO). Deploy generators and the local runtime read it to make an ordered
        resource; the dispatcher does not need it (groups hold after a failure regardless)."""
        return self.kind in ("stream", "nosql") or self.options.ordered


# ---------------------------------------------------------------------------------- sinks

#: what a sink is for: its *family* (``kind`` is the event kind, and only that)
if TYPE_CHECKING:
    SinkFamily = Literal["object", "table", "cache", "sql", "publisher"]
    SinkKind = SinkFamily  # the old name, kept for code written against it

_SINK_FAMILIES = ("object", "table", "cache", "sql", "publisher")  # SinkFamily's values

#: the resource type each sink family occupies in the app's namespace (publishers are resolved
#: from the trigger that shares their name, or their ``target`` option)
SINK_RESOURCE_TYPES: dict[str, str] = {"object": "bucket", "table": "table", "cache": "cache", "sql": "sql"}
SINK_RESOURCE_KINDS = SINK_RESOURCE_TYPES  # the old name, kept for code written against it


class SinkSpec(Record):
    """One declared sink of a ``family`` (object, table, cache, sql, publisher). ``options``
    carries family-specific settings: ``key`` / ``sort_key`` for tables, ``target`` ("queue",
    "topic" or "stream") for publishers, ``private_network`` for caches that live in a VPC, and
    anything a backend documents."""

    __slots__ = ("family", "name", "options")
    family: SinkFamily
    name: str
    options: Mapping[str, Any]

    def __init__(self, family: SinkFamily, name: str, options: Mapping[str, Any] = _NONE) -> None:
        _set(self, "family", family)
        _set(self, "name", name)
        _set(self, "options", options)

    def __hash__(self) -> int:
        return hash((self.family, self.name))

    @property
    def kind(self) -> SinkFamily:
        """The old name of :attr:`family`, still read by the deploy generators and the sink
        resolver while they are rewritten; new code says ``family``."""
        return self.family

    @property
    def resource_type(self) -> str:
        """The type of resource it writes to in the app's namespace (bucket, queue, ...)."""
        if self.family == "publisher":
            return str(self.options.get("target") or "queue")
        return SINK_RESOURCE_TYPES[self.family]

    @property
    def resource_kind(self) -> str:
        """The old name of :attr:`resource_type`, kept for code written against it."""
        return self.resource_type

    @property
    def env_var(self) -> str:
        """The environment variable holding this sink's backend URL (``COREFN_SINK_THUMBNAILS``)."""
        return "COREFN_SINK_" + "".join(c if c.isalnum() else "_" for c in self.name).upper()


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def check_name(name: str, what: str) -> str:
    """Logical names become bucket, queue and function names on four clouds: keep them to the
    characters every provider accepts."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= 63
        or not name[0].isascii()
        or not name[0].isalnum()
        or not _NAME_CHARS.issuperset(name)
    ):
        raise ConfigurationError(
            f"{what} name {name!r} must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def check_operations(on: str | tuple[str, ...] | list[str]) -> tuple[StorageOperation, ...]:
    names = (on,) if isinstance(on, str) else tuple(on)
    if names == ("*",):
        return STORAGE_OPERATIONS
    bad = [n for n in names if n not in STORAGE_OPERATIONS]
    if bad or not names:
        raise ConfigurationError(f"storage 'on' must be some of {', '.join(STORAGE_OPERATIONS)} or '*', got {bad or names}")
    return names  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    """``SinkFamily`` (and its old name ``SinkKind``) at run time (see :mod:`corefn._aliases`)."""
    if name in ("SinkFamily", "SinkKind"):
        return alias(globals(), name, _SINK_FAMILIES)
    raise missing(__name__, name)
