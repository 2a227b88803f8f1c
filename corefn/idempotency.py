"""Idempotent handlers: a redelivered event returns the first run's result instead of running again.

Every trigger but HTTP is at-least-once on every cloud (SQS, Queue Storage, Pub/Sub, Kinesis,
S3 notifications, EventBridge, the local runtime): a handler that must not run twice for one
event declares ``idempotent=True`` (the key is the event's :attr:`~corefn.events.Event.identity`:
message id, S3 sequencer, CloudEvent id, ``Idempotency-Key`` header) or
``idempotent=Idempotency(table="name", key=fn, expiry_s=3600)``.

The semantics are AWS Lambda Powertools' idempotency utility's
(docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/), made portable:

1. Before the handler runs, a record ``in_progress`` is written **only if none exists** (a
   conditional write: DynamoDB ``attribute_not_exists``, Table Storage / Cosmos ``If-None-Match``,
   Firestore ``exists=False``, Cloudant's revision check, SQLite's transaction, Redis ``SET NX``).
   Of two concurrent deliveries exactly one wins.
2. The winner runs the handler. On success the record becomes ``completed`` with the result and an
   expiry (``expiry_s``, default one hour); on failure it is deleted, so the trigger's retry runs it.
3. A loser that finds ``completed`` returns the stored result without running the handler; one that
   finds ``in_progress`` fails with :class:`~corefn.errors.IdempotencyInProgressError`, so the
   trigger redelivers it later (never a second concurrent run).
4. An ``in_progress`` record older than the invocation's time limit belongs to a run that died
   (killed, timed out): it is taken over, as is an expired ``completed`` one.

Where records live: the table or cache sink named in :class:`Idempotency` (declared with
``app.table`` / ``app.cache`` on any backend); ``idempotent=True`` declares a table sink named
:data:`DEFAULT_TABLE` for the app. Under ``corefn run`` the records live in the runtime's own SQLite
store instead, committed in the same transaction as the delivery's acknowledgement (HTTP routes,
which have no acknowledgement, commit at once; :mod:`corefn.local.idempotency`).

HTTP routes key on the client's ``Idempotency-Key`` header, scoped per handler only: corefn cannot
tell clients apart portably, so two clients sending the same key share one record.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from corefn._record import Record, _set
from corefn.errors import ConfigurationError, IdempotencyInProgressError, SinkConflictError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    from corefn.context import Context
    from corefn.events.base import Event
    from corefn.specs import HandlerSpec
else:
    Protocol = object  # Records is a protocol to the type checker only; typing stays unimported

#: the table sink ``idempotent=True`` records in (declared for the app when a handler asks)
DEFAULT_TABLE = "idempotency"
#: how long a completed record answers redeliveries (Powertools' default: one hour)
DEFAULT_EXPIRY = 3600.0
#: how long an in-progress record blocks others when neither the handler's ``timeout`` nor the
#: invocation's deadline says (Lambda's longest run is 15 minutes)
DEFAULT_IN_PROGRESS = 900.0

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
#: the attribute of a table record holding when it expires, in epoch seconds: what DynamoDB's
#: time to live reads (docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html), so a
#: deployment can let the service delete expired records
EXPIRATION = "expiration"


class Idempotency(Record):
    """Where and how a handler's idempotency records are kept.

    - ``table`` / ``cache``: the declared table or cache sink holding the records (one of them;
      neither means :data:`DEFAULT_TABLE`).
    - ``key``: ``fn(event) -> str`` for the key, when the event's own id is not what makes two
      deliveries "the same" (e.g. an order id inside the body). Default: ``event.identity``.
    - ``expiry_s``: seconds a completed record answers redeliveries.
    - ``in_progress_s``: seconds an in-progress record blocks other runs (default: the handler's
      ``timeout``, else the invocation's remaining time, else 15 minutes).
    """

    __slots__ = ("table", "cache", "key", "expiry_s", "in_progress_s")
    table: str | None
    cache: str | None
    key: Callable[[Any], Any] | None
    expiry_s: float
    in_progress_s: float | None

    def __init__(
        self,
        table: str | None = None,
        *,
        cache: str | None = None,
        key: Callable[[Any], Any] | None = None,
        expiry_s: float = DEFAULT_EXPIRY,
        in_progress_s: float | None = None,
    ) -> None:
        if table is not None and cache is not None:
            raise ConfigurationError("Idempotency: give a table or a cache, not both")
        if expiry_s <= 0 or (in_progress_s is not None and in_progress_s <= 0):
            raise ConfigurationError("Idempotency: expiry_s and in_progress_s are positive seconds")
        if key is not None and not callable(key):
            raise ConfigurationError("Idempotency: key is a function event -> str")
        _set(self, "table", table if table is not None or cache is not None else DEFAULT_TABLE)
        _set(self, "cache", cache)
        _set(self, "key", key)
        _set(self, "expiry_s", float(expiry_s))
        _set(self, "in_progress_s", None if in_progress_s is None else float(in_progress_s))

    @property
    def sink(self) -> str:
        """The sink holding the records."""
        return str(self.cache if self.cache is not None else self.table)

    @classmethod
    def of(cls, value: Any) -> Idempotency | None:
        """The setting an ``idempotent=`` option stands for (``True`` → defaults, falsy → off)."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        raise ConfigurationError(f"idempotent= takes True or Idempotency(...), not {value!r}")


class Claim:
    """What :meth:`Records.begin` found: ``None`` from ``begin`` means "run it"; a Claim says a
    completed record answers (``result``)."""

    __slots__ = ("result",)

    def __init__(self, result: Any) -> None:
        self.result = result


class Records(Protocol):
    """A place idempotency records live (a table sink, a cache sink, the local runtime's store)."""

    def begin(self, key: str, now: float, in_progress_until: float) -> Claim | None:
        """Write an in-progress record if none is live and return None (the caller runs the
        handler); return a Claim for a completed one; raise IdempotencyInProgressError for a
        live in-progress one."""
        ...

    def complete(self, key: str, result: Any, expires: float) -> None: ...

    def abandon(self, key: str) -> None: ...


# ------------------------------------------------------------------------------- backends


def encode_result(result: Any) -> str:
    """The stored form of a handler's result: JSON (what the handler returned must be JSON to be
    replayed; anything else is stored as its ``str``, as Powertools' JSON serializer does with
    ``default=str``)."""
    import json

    return json.dumps(result, default=str, separators=(",", ":"))


def decode_result(text: str | None) -> Any:
    import json

    return None if text is None else json.loads(text)


class TableRecords:
    """Records as items of a :class:`~corefn.sinks.base.Table` keyed by its key attribute:
    ``{key: K, status, expiration (epoch s, the attribute a DynamoDB / Cosmos TTL can be set on),
    in_progress_until, data}``. Conditional writes (``if_absent``, ``if_version``) decide races."""

    __slots__ = ("table", "attribute", "handler")

    def __init__(self, table: Any, attribute: str, handler: str) -> None:
        self.table = table
        self.attribute = attribute
        self.handler = handler

    def _item(self, key: str, status: str, expiration: float, until: float | None, data: str | None) -> dict[str, Any]:
        item: dict[str, Any] = {self.attribute: key, "status": status, EXPIRATION: int(expiration) + 1, "handler": self.handler}
        if until is not None:
            item["in_progress_until"] = until
        if data is not None:
            item["data"] = data
        return item

    def begin(self, key: str, now: float, in_progress_until: float) -> Claim | None:
        fresh = self._item(key, IN_PROGRESS, in_progress_until, in_progress_until, None)
        for _ in range(5):  # each turn loses a race to a writer that then changed the record
            try:
                self.table.put(fresh, if_absent=True)
                return None
            except SinkConflictError:
                pass
            found = self.table.get(key)
            if found is None:  # deleted (abandoned) meanwhile: try to take it again
                continue
            if _is_live(found, now):
                if found.get("status") == COMPLETED:
                    return Claim(decode_result(found.get("data")))
                raise IdempotencyInProgressError(key)
            try:  # expired, or an in-progress run that died: take it over at its version
                self.table.put(fresh, if_version=found["_version"])
                return None
            except SinkConflictError:
                continue
        raise IdempotencyInProgressError(key)

    def complete(self, key: str, result: Any, expires: float) -> None:
        self.table.put(self._item(key, COMPLETED, expires, None, encode_result(result)))

    def abandon(self, key: str) -> None:
        self.table.delete(key)


def _is_live(record: dict[str, Any], now: float) -> bool:
    if record.get("status") == COMPLETED:
        return float(record.get(EXPIRATION) or 0) > now
    return float(record.get("in_progress_until") or 0) > now


class CacheRecords:
    """Records in a :class:`~corefn.sinks.base.Cache` (Redis): ``add`` (``SET NX``) writes the
    in-progress marker with the in-progress time as its TTL, so a run that died frees the key by
    itself; a completed record lives ``expiry_s``."""

    __slots__ = ("cache",)

    def __init__(self, cache: Any) -> None:
        self.cache = cache

    def begin(self, key: str, now: float, in_progress_until: float) -> Claim | None:
        import json

        marker = json.dumps({"status": IN_PROGRESS})
        for _ in range(5):
            if self.cache.add(key, marker, ttl=max(0.001, in_progress_until - now)):
                return None
            found = self.cache.get(key)
            if found is None:  # expired or abandoned between the two calls
                continue
            record = json.loads(found)
            if record.get("status") == COMPLETED:
                return Claim(decode_result(record.get("data")))
            raise IdempotencyInProgressError(key)
        raise IdempotencyInProgressError(key)

    def complete(self, key: str, result: Any, expires: float) -> None:
        import json

        record = json.dumps({"status": COMPLETED, "data": encode_result(result)})
        self.cache.set(key, record, ttl=max(0.001, expires - time.time()))

    def abandon(self, key: str) -> None:
        self.cache.delete(key)


# --------------------------------------------------------------------------------- guard


class Guard:
    """The idempotency steps around one handler call (used by :mod:`corefn.dispatch`)."""

    __slots__ = ("setting", "records", "spec", "ctx")

    def __init__(self, setting: Idempotency, records: Records, spec: HandlerSpec, ctx: Context) -> None:
        self.setting = setting
        self.records = records
        self.spec = spec
        self.ctx = ctx

    def key_of(self, event: Event) -> str:
        """``<handler>#<key>``: one record store may serve several handlers, and one event may
        reach several (a topic's subscribers), each of which runs once."""
        made = self.setting.key(event) if self.setting.key is not None else event.identity
        if made is None or made == "":
            raise ConfigurationError(
                f"handler {self.spec.name!r} is idempotent but its {event.kind} event has no id to key on;"
                " give Idempotency(key=fn) a function of the event"
            )
        return f"{self.spec.name}#{made}"

    def begin(self, key: str) -> Claim | None:
        now = time.time()
        return self.records.begin(key, now, now + self._in_progress_for())

    def _in_progress_for(self) -> float:
        if self.setting.in_progress_s is not None:
            return self.setting.in_progress_s
        if self.spec.options.timeout:
            return float(self.spec.options.timeout)
        remaining = self.ctx.remaining()
        return remaining if remaining else DEFAULT_IN_PROGRESS

    def complete(self, key: str, result: Any) -> None:
        self.records.complete(key, result, time.time() + self.setting.expiry_s)

    def abandon(self, key: str) -> None:
        self.records.abandon(key)


def guard_for(spec: HandlerSpec, ctx: Context) -> Guard | None:
    """The guard of an idempotent handler (``None`` for the others): the records the runtime
    provides (``ctx.idempotency``, the local runtime's store), else the declared sink."""
    setting = Idempotency.of(getattr(spec.options, "idempotent", None))
    if setting is None:
        return None
    provided = ctx.idempotency
    if provided is not None:
        return Guard(setting, provided, spec, ctx)
    return Guard(setting, records_in_sink(setting, spec, ctx), spec, ctx)


def records_in_sink(setting: Idempotency, spec: HandlerSpec, ctx: Context) -> Records:
    app = ctx.app
    if app is None:
        raise ConfigurationError(f"handler {spec.name!r} is idempotent, but the invocation has no app to find sink {setting.sink!r} in")
    declared = {s.name: s for s in app.sinks}
    sink = declared.get(setting.sink)
    wanted = "cache" if setting.cache is not None else "table"
    if sink is None or sink.family != wanted:
        raise ConfigurationError(
            f"handler {spec.name!r} keeps idempotency records in {wanted} {setting.sink!r}:"
            f" declare it with app.{wanted}({setting.sink!r})"
        )
    if wanted == "cache":
        return CacheRecords(app.sink(setting.sink))
    if sink.options.get("sort_key"):
        raise ConfigurationError(f"idempotency table {setting.sink!r} must have no sort key (records are keyed by one string)")
    return TableRecords(app.sink(setting.sink), str(sink.options.get("key") or "id"), spec.name)


def record_sink(spec: HandlerSpec) -> str | None:
    """The sink an idempotent handler keeps its records in (``None`` for other handlers): what
    its least-privilege grants must include besides the sinks it uses itself."""
    setting = Idempotency.of(getattr(spec.options, "idempotent", None))
    return None if setting is None else setting.sink
