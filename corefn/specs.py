"""The frozen declarations an :class:`~corefn.app.App` collects.

One declaration feeds everything: the dispatcher routes by it, the local runtime schedules by it,
the deploy generators, the permission builder and the lock-in report read it. So it is data, not
behaviour, and it is frozen: a generator can never change what the runtime will do.

Extending without breaking: every field has a default, and provider-specific knobs that have no
portable meaning go in ``Options.provider`` (``{"aws": {"reserved_concurrency": 5}}``) rather than
into new top-level fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from corefn.errors import ConfigurationError
from corefn.events.storage import STORAGE_OPERATIONS, StorageOperation


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """Knobs every trigger may carry; ``None`` means "the provider's default".

    - ``memory``: MB. ``timeout``: seconds a single invocation may run.
    - ``max_attempts``: deliveries before a message is dead-lettered (the seed's Azure rule is 5).
    - ``dead_letter``: logical name of the queue that receives poison messages; ``None`` lets each
      provider use its convention (``<queue>-poison`` on Azure, a DLQ on SQS, the local runtime's
      ``<queue>.dead``).
    - ``batch_size``: records per invocation for poll-based triggers.
    - ``ordered``: keep order per partition / message group (stream semantics).
    - ``api_key``: HTTP callers must present the app's API key.
    - ``concurrency``: upper bound on parallel invocations.
    - ``warm``: keep the function warm with a 5-minute ping (the seed's cold-start advice).
    - ``env``: extra environment variables for this function.
    - ``provider``: per-cloud settings with no portable meaning, keyed by cloud name.
    """

    memory: int | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    dead_letter: str | None = None
    batch_size: int | None = None
    ordered: bool = False
    api_key: bool = False
    concurrency: int | None = None
    warm: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    provider: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def merged(self, **changes: Any) -> Options:
        """A copy with ``changes`` applied, ignoring ``None`` values (the "not given" marker)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update({k: v for k, v in changes.items() if v is not None})
        return Options(**values)


OPTION_NAMES = frozenset(Options.__dataclass_fields__)


# ------------------------------------------------------------------------------- triggers


@dataclass(frozen=True, slots=True)
class Trigger:
    """Base of the per-kind trigger declarations. ``resource`` is the logical resource name the
    trigger listens to (shared with sinks), or ``None`` for kinds that have none."""

    kind: ClassVar[str] = "trigger"
    #: the resource kind in the app's namespace, for triggers that listen to one
    resource_kind: ClassVar[str | None] = None

    @property
    def resource(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class HttpTrigger(Trigger):
    kind: ClassVar[str] = "http"
    methods: tuple[str, ...]
    route: str

    def __post_init__(self) -> None:
        if not self.route.startswith("/"):
            raise ConfigurationError(f"HTTP route {self.route!r} must start with '/'")


@dataclass(frozen=True, slots=True)
class StorageTrigger(Trigger):
    kind: ClassVar[str] = "storage"
    resource_kind: ClassVar[str | None] = "bucket"
    bucket: str
    operations: tuple[StorageOperation, ...] = ("created",)
    prefix: str = ""
    suffix: str = ""

    @property
    def resource(self) -> str:
        return self.bucket

    def wants(self, operation: str, key: str) -> bool:
        """Whether an event passes this trigger's filters (clouds filter too; the local runtime
        and replayed events rely on this)."""
        return operation in self.operations and key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True, slots=True)
class QueueTrigger(Trigger):
    kind: ClassVar[str] = "queue"
    resource_kind: ClassVar[str | None] = "queue"
    queue: str
    batch: bool = False

    @property
    def resource(self) -> str:
        return self.queue


@dataclass(frozen=True, slots=True)
class TopicTrigger(Trigger):
    kind: ClassVar[str] = "topic"
    resource_kind: ClassVar[str | None] = "topic"
    topic: str
    batch: bool = False
    subscription: str | None = None

    @property
    def resource(self) -> str:
        return self.topic


@dataclass(frozen=True, slots=True)
class TimerTrigger(Trigger):
    """``schedule`` is a 5-field cron expression (minute hour day month weekday) evaluated in
    ``tz``; generators translate it to each provider's syntax (EventBridge ``cron()``, Azure's
    6-field NCRONTAB, Cloud Scheduler, the OpenWhisk alarms feed)."""

    kind: ClassVar[str] = "timer"
    schedule: str
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if len(self.schedule.split()) != 5:
            raise ConfigurationError(
                f"timer schedule {self.schedule!r} must be a 5-field cron expression (minute hour day month weekday)"
            )


@dataclass(frozen=True, slots=True)
class StreamTrigger(Trigger):
    kind: ClassVar[str] = "stream"
    resource_kind: ClassVar[str | None] = "stream"
    stream: str
    batch: bool = False
    start: Literal["latest", "earliest"] = "latest"

    @property
    def resource(self) -> str:
        return self.stream


@dataclass(frozen=True, slots=True)
class NoSqlTrigger(Trigger):
    kind: ClassVar[str] = "nosql"
    resource_kind: ClassVar[str | None] = "table"
    table: str
    batch: bool = False

    @property
    def resource(self) -> str:
        return self.table


@dataclass(frozen=True, slots=True)
class InvokeTrigger(Trigger):
    kind: ClassVar[str] = "invoke"


TRIGGER_KINDS: dict[str, type[Trigger]] = {
    cls.kind: cls
    for cls in (HttpTrigger, StorageTrigger, QueueTrigger, TopicTrigger, TimerTrigger, StreamTrigger, NoSqlTrigger, InvokeTrigger)
}


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One declared handler: its name (unique in the app; the deployed function's name), the
    callable, what triggers it, and its options. ``takes_context`` and ``is_async`` are worked
    out once at declaration so the hot path does no introspection."""

    name: str
    handler: Callable[..., Any]
    trigger: Trigger
    options: Options = field(default_factory=Options)
    takes_context: bool = False
    is_async: bool = False

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
        """Streams are always ordered per partition; queues and topics when asked (FIFO)."""
        return self.kind == "stream" or self.options.ordered


# ---------------------------------------------------------------------------------- sinks

SinkKind = Literal["object", "table", "cache", "sql", "publisher"]

#: the resource kind each sink kind occupies in the app's namespace (publishers are resolved
#: from the trigger that shares their name, or their ``target`` option)
SINK_RESOURCE_KINDS: dict[str, str] = {"object": "bucket", "table": "table", "cache": "cache", "sql": "sql"}


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """One declared sink. ``options`` carries kind-specific settings: ``key`` / ``sort_key`` for
    tables, ``target`` ("queue", "topic" or "stream") for publishers, ``private_network`` for
    caches that live in a VPC, and anything a backend documents."""

    kind: SinkKind
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resource_kind(self) -> str:
        if self.kind == "publisher":
            return str(self.options.get("target") or "queue")
        return SINK_RESOURCE_KINDS[self.kind]

    @property
    def env_var(self) -> str:
        """The environment variable holding this sink's backend URL (``COREFN_SINK_THUMBNAILS``)."""
        return "COREFN_SINK_" + re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()


def check_name(name: str, what: str) -> str:
    """Logical names become bucket, queue and function names on four clouds: keep them to the
    characters every provider accepts."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,62}", name, re.IGNORECASE):
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
