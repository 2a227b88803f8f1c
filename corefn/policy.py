"""What a handler's deployment promises, worked out once from its declaration: the sinks it uses
and its retry policy. Cloud-neutral data; each adapter compiles it into its own fields
(``corefn_aws.policy``), and every generator reads that compiled form, so the template, the
README and the tests cannot disagree.

The retry rule, the same on every cloud:

=================  =============================================================================
delivery           what happens when the handler raises
=================  =============================================================================
``sync``           (HTTP, invoke) the caller gets the error; nothing is retried
``queue``          redelivered until ``max_attempts`` (default 5), then sent to ``dead_letter``
``stream``         (streams, change feeds) the failing batch is split where the cloud can
                   (bisect) and retried until ``max_attempts`` (default 5, ``0``: until the
                   record expires or ``max_age``), then the record goes to ``dead_letter``
                   (written there by corefn itself where the cloud has no destination)
``event``          (storage, topic, timer: pushed by the platform) retried by the platform up
                   to ``max_attempts`` as far as it allows, then ``dead_letter``
=================  =============================================================================
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

from corefn._record import Record, _set
from corefn.errors import ConfigurationError
from corefn.kinds import KINDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from corefn.app import App
    from corefn.specs import HandlerSpec, SinkSpec

DEFAULT_MAX_ATTEMPTS = 5

#: trigger kind → how the platform delivers it (the table in the module docstring)
DELIVERY: dict[str, str] = {k.name: k.delivery for k in KINDS}

#: resource types a dead letter may be: a queue or topic receives the message, a bucket a record
DEAD_LETTER_TYPES = ("queue", "topic", "bucket")


# ------------------------------------------------------------------------ declaration checks


def check_include(paths: Iterable[str]) -> tuple[str, ...]:
    """``App(include=[...])``: relative paths inside the app's folder (a bundle keeps the app's
    layout, so files the app opens beside ``__file__`` are found in the cloud too)."""
    if isinstance(paths, str):
        paths = (paths,)
    checked = []
    for path in paths:
        clean = str(path).replace("\\", "/")
        if not clean or clean.startswith("/") or ":" in clean.split("/", 1)[0] or ".." in clean.split("/"):
            raise ConfigurationError(f"include path {path!r} must be relative to the app's file and stay inside its folder")
        checked.append(clean.rstrip("/"))
    return tuple(checked)


def _count(options: Mapping[str, Any], name: str, low: float) -> None:
    value = options.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise ConfigurationError(f"option {name}={value!r} must be a number >= {low:g}")


def check_options(app: App, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a handler's retry and ``uses`` options at declaration; ``uses`` becomes a tuple of
    sink names (a sink object or a name; the sink must already be declared on this app)."""
    for name, low in (("max_attempts", 0), ("backoff", 0), ("max_age", 1), ("timeout", 0.001), ("memory", 128)):
        _count(options, name, low)
    for name in ("max_attempts", "max_age", "memory"):
        if options.get(name) is not None and not isinstance(options[name], int):
            raise ConfigurationError(f"option {name} must be a whole number, got {options[name]!r}")
    dead = options.get("dead_letter")
    if dead is not None:
        from corefn.specs import check_name

        check_name(dead, "dead_letter")
    uses = options.get("uses")
    if uses is None:
        return dict(options)
    if isinstance(uses, (str, bytes)) or not isinstance(uses, Iterable):
        uses = (uses,)
    names: list[str] = []
    for item in uses:
        spec = getattr(item, "spec", None)
        if spec is not None and not isinstance(item, str):
            owner = getattr(item, "_app", None)
            if owner is not None and owner is not app:
                raise ConfigurationError(f"uses= names sink {spec.name!r} of another app ({owner.name!r})")
            name = spec.name
        elif isinstance(item, str):
            name = item
        else:
            raise ConfigurationError(f"uses= takes sink names or sink objects, got {item!r}")
        if name not in {s.name for s in app.sinks}:
            declared = ", ".join(s.name for s in app.sinks) or "none"
            raise ConfigurationError(f"uses= names {name!r}, which app {app.name!r} does not declare as a sink (declared: {declared}); declare sinks before the handlers that use them")
        if name not in names:
            names.append(name)
    return {**options, "uses": tuple(names)}


def used_sinks(app: App, spec: HandlerSpec) -> tuple[SinkSpec, ...]:
    """The sinks a handler's function touches: its ``uses=``, else every sink of the app (the
    limits check reports handlers that did not say); none for a trigger applied to a flow. An idempotent handler also touches the sink
    holding its idempotency records (:func:`corefn.idempotency.record_sink`), named or not."""
    flows = sys.modules.get("corefn.flows.spec")  # not imported: no flow starter exists (cold start)
    if flows is not None and isinstance(spec.handler, flows.FlowStarter):  # it starts its flow; the steps touch the sinks
        return ()
    if spec.options.uses is None:
        return app.sinks
    wanted = set(spec.options.uses)
    if spec.options.idempotent is not None:
        from corefn.idempotency import record_sink

        records = record_sink(spec)
        if records is not None:
            wanted.add(records)
    return tuple(s for s in app.sinks if s.name in wanted)


# ------------------------------------------------------------------------------ retry policy


class DeadLetter(Record):
    """Where poison messages go: a logical name, its resource type (queue, topic, bucket) and
    whether the app declares it (an undeclared name becomes a queue the deployment creates)."""

    __slots__ = ("name", "type", "declared")
    name: str
    type: str
    declared: bool

    def __init__(self, name: str, type: str, declared: bool) -> None:
        _set(self, "name", name)
        _set(self, "type", type)
        _set(self, "declared", declared)

    @property
    def kind(self) -> str:
        """The old name of :attr:`type` (``kind`` is the event kind, and only that)."""
        return self.type


class RetryPolicy(Record):
    """The portable retry policy of one handler. ``max_attempts`` counts deliveries (the first
    included; ``0`` = until the record expires); ``dead_letter`` is ``None`` where the cloud's
    own convention applies (a ``<queue>-dlq`` the deployment creates)."""

    __slots__ = ("handler", "kind", "delivery", "max_attempts", "backoff", "timeout", "max_age", "dead_letter", "bisect")
    handler: str
    kind: str
    delivery: str
    max_attempts: int
    backoff: float | None
    timeout: float | None
    max_age: int | None
    dead_letter: DeadLetter | None
    bisect: bool

    def __init__(
        self,
        *,
        handler: str,
        kind: str,
        delivery: str,
        max_attempts: int,
        backoff: float | None = None,
        timeout: float | None = None,
        max_age: int | None = None,
        dead_letter: DeadLetter | None = None,
        bisect: bool = False,
    ) -> None:
        _set(self, "handler", handler)
        _set(self, "kind", kind)
        _set(self, "delivery", delivery)
        _set(self, "max_attempts", max_attempts)
        _set(self, "backoff", backoff)
        _set(self, "timeout", timeout)
        _set(self, "max_age", max_age)
        _set(self, "dead_letter", dead_letter)
        _set(self, "bisect", bisect)

    @property
    def retries_forever(self) -> bool:
        return self.max_attempts == 0


def retry_policy(app: App, spec: HandlerSpec) -> RetryPolicy:
    """The portable policy of ``spec``, defaults applied and the dead letter checked against the
    app's namespace."""
    delivery = DELIVERY.get(spec.kind)
    if delivery is None:
        raise ConfigurationError(f"handler {spec.name!r}: {spec.kind!r} is no event kind of corefn.kinds (a new kind needs its row there)")
    options = spec.options
    if delivery == "sync":
        return RetryPolicy(handler=spec.name, kind=spec.kind, delivery=delivery, max_attempts=1, timeout=options.timeout)
    dead = None
    if options.dead_letter is not None:
        found = app.resources().get(options.dead_letter)
        if found is None:
            dead = DeadLetter(options.dead_letter, "queue", False)
        elif found.type in DEAD_LETTER_TYPES:
            dead = DeadLetter(options.dead_letter, found.type, True)
        else:
            raise ConfigurationError(
                f"handler {spec.name!r}: dead_letter {options.dead_letter!r} is a {found.type}; it must be a queue, topic or bucket"
            )
        if dead.name == spec.resource:
            raise ConfigurationError(f"handler {spec.name!r}: dead_letter {dead.name!r} is the queue it reads (a poison message would loop)")
    attempts = DEFAULT_MAX_ATTEMPTS if options.max_attempts is None else options.max_attempts
    if options.max_age is not None and delivery != "stream":
        raise ConfigurationError(f"handler {spec.name!r}: max_age applies to stream and change-feed records only")
    return RetryPolicy(
        handler=spec.name,
        kind=spec.kind,
        delivery=delivery,
        max_attempts=attempts,
        backoff=options.backoff,
        timeout=options.timeout,
        max_age=options.max_age,
        dead_letter=dead,
        bisect=delivery == "stream",
    )


class CompiledPolicy(Record):
    """One handler's policy in one cloud's terms: ``settings`` maps the provider's field names
    (as the generator writes them) to values; ``notes`` says where the cloud cannot do what the
    portable policy asks and what corefn does instead (the bundle README lists them)."""

    __slots__ = ("cloud", "policy", "settings", "notes")
    cloud: str
    policy: RetryPolicy
    settings: Mapping[str, Any]
    notes: tuple[str, ...]

    def __init__(self, cloud: str, policy: RetryPolicy, settings: Mapping[str, Any], notes: tuple[str, ...] = ()) -> None:
        _set(self, "cloud", cloud)
        _set(self, "policy", policy)
        _set(self, "settings", settings)
        _set(self, "notes", notes)


def compile_policies(app: App, cloud: str) -> dict[str, CompiledPolicy]:
    """Every handler's policy compiled by ``cloud``'s adapter (its ``compile_policy(app,
    policy)``); an adapter without one has not been taught retry policies yet."""
    from corefn.adapters import get_adapter

    compile_one = get_adapter(cloud).compile_policy
    if compile_one is None:
        raise NotImplementedError(f"the {cloud} adapter does not compile retry policies yet")
    return {spec.name: compile_one(app, retry_policy(app, spec)) for spec in app.handlers}
