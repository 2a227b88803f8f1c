"""The App: one registry of handlers and sinks that runtime and deploy both read.

Decorators store a frozen :class:`~corefn.specs.HandlerSpec` on the App instance (never in module
globals, so two apps in one process do not see each other) and return the function unchanged,
so it stays a plain, testable Python function.

Handlers and sinks share one namespace of logical resource names: ``@app.storage("originals")``
and ``app.object_store("originals")`` are the same bucket; declaring ``originals`` as a bucket and
as a queue is an error, caught at declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from corefn._record import Record, _set
from corefn.errors import ConfigurationError
from corefn.kinds import names
from corefn.specs import (
    OPTION_NAMES,
    AuthorizerTrigger,
    HandlerSpec,
    HttpTrigger,
    InvokeTrigger,
    NoSqlTrigger,
    Options,
    QueueTrigger,
    SinkSpec,
    StorageTrigger,
    StreamTrigger,
    TimerTrigger,
    TopicTrigger,
    Trigger,
    check_name,
    check_operations,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from corefn.auth import Jwt
    from corefn.flows.spec import FlowSpec, Node
    from corefn.routing import Router
    from corefn.sinks.base import Cache, ObjectStore, Publisher, Sql, Table
    from corefn.specs import SinkFamily

    F = TypeVar("F", bound=Callable[..., Any])


HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"})


class Cors(Record):
    """Cross-origin settings for every HTTP route of an app. The dispatcher answers preflight
    ``OPTIONS`` requests itself and adds the headers to every response of an allowed origin."""

    __slots__ = ("origins", "methods", "headers", "expose", "credentials", "max_age")
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    credentials: bool
    max_age: int

    def __init__(
        self,
        origins: tuple[str, ...] = ("*",),
        methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
        headers: tuple[str, ...] = ("content-type", "authorization", "x-api-key"),
        expose: tuple[str, ...] = (),
        credentials: bool = False,
        max_age: int = 600,
    ) -> None:
        _set(self, "origins", tuple(origins))
        _set(self, "methods", tuple(methods))
        _set(self, "headers", tuple(headers))
        _set(self, "expose", tuple(expose))
        _set(self, "credentials", credentials)
        _set(self, "max_age", max_age)

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins


class Resource(Record):
    """A logical resource in the app's namespace (its ``type``: bucket, queue, topic, stream,
    table, cache or sql) and the handlers and sinks that use it."""

    __slots__ = ("name", "type", "handlers", "sinks")
    name: str
    type: str
    handlers: tuple[str, ...]
    sinks: tuple[str, ...]

    def __init__(self, name: str, type: str, handlers: tuple[str, ...] = (), sinks: tuple[str, ...] = ()) -> None:
        _set(self, "name", name)
        _set(self, "type", type)
        _set(self, "handlers", handlers)
        _set(self, "sinks", sinks)

    @property
    def kind(self) -> str:
        """The old name of :attr:`type` (``kind`` is the event kind, and only that), kept for
        code written against it; new code says ``type``."""
        return self.type


class App:
    """A corefn application: the handlers and sinks of one deployable unit.

    ``name`` prefixes deployed resources; ``cors`` applies to every HTTP route; ``defaults``
    are the options every handler starts from; ``api_key_env`` names the environment variable
    the local runtime and the adapters read the API key from; ``include`` lists data files and
    folders (relative to the app's file) that deployment bundles carry beside the modules the
    app imports (those are found from its imports); ``auth`` (a :class:`~corefn.auth.Jwt`)
    protects every HTTP route that does not say ``auth=False``.
    """

    __slots__ = ("name", "cors", "defaults", "api_key_env", "include", "_handlers", "_sinks", "_sink_objects", "_router", "_flows")

    def __init__(
        self,
        name: str,
        *,
        cors: Cors | None = None,
        defaults: Options | None = None,
        api_key_env: str = "COREFN_API_KEY",
        include: Iterable[str] = (),
        auth: Jwt | None = None,
    ) -> None:
        from corefn.policy import check_include

        self.name = check_name(name, "app")
        self.cors = cors
        self.defaults = (defaults if defaults is not None else Options()).merged(auth=auth)
        self.api_key_env = api_key_env
        self.include = check_include(include)
        self._handlers: dict[str, HandlerSpec] = {}
        self._sinks: dict[str, SinkSpec] = {}
        self._sink_objects: dict[str, Any] = {}
        self._router: Router | None = None
        self._flows: dict[str, FlowSpec] = {}

    def __repr__(self) -> str:
        return f"App({self.name!r}, handlers={list(self._handlers)}, sinks={list(self._sinks)})"

    # ------------------------------------------------------------------ reading the registry

    @property
    def handlers(self) -> tuple[HandlerSpec, ...]:
        return tuple(self._handlers.values())

    @property
    def sinks(self) -> tuple[SinkSpec, ...]:
        return tuple(self._sinks.values())

    def handler(self, name: str) -> HandlerSpec:
        try:
            return self._handlers[name]
        except KeyError:
            raise ConfigurationError(
                f"app {self.name!r} has no handler {name!r} (declared: {', '.join(self._handlers) or 'none'})"
            ) from None

    def handlers_of(self, kind: str) -> list[HandlerSpec]:
        return [spec for spec in self._handlers.values() if spec.kind == kind]

    def sink(self, name: str) -> Any:
        """The sink object declared under ``name`` (what ``ctx.sinks[name]`` returns)."""
        try:
            return self._sink_objects[name]
        except KeyError:
            raise ConfigurationError(f"app {self.name!r} declares no sink {name!r}") from None

    @property
    def router(self) -> Router:
        if self._router is None:
            from corefn.routing import Router

            self._router = Router(self.handlers_of("http"))
        return self._router

    def resources(self) -> dict[str, Resource]:
        """The logical namespace: every bucket, queue, topic, stream, table, cache and database,
        with the handlers that listen to it and the sinks that write to it."""
        found: dict[str, Resource] = {}

        def add(name: str, type: str, handler: str | None = None, sink: str | None = None) -> None:
            old = found.get(name)
            if old is not None and old.type != type:
                raise ConfigurationError(f"resource {name!r} is declared both as a {old.type} and as a {type}")
            handlers = (old.handlers if old else ()) + ((handler,) if handler else ())
            sinks = (old.sinks if old else ()) + ((sink,) if sink else ())
            found[name] = Resource(name, type, handlers, sinks)

        for spec in self._handlers.values():
            listened = spec.trigger.resource_type
            if listened is not None and spec.resource is not None:
                add(spec.resource, listened, handler=spec.name)
        for sink in self._sinks.values():
            written = sink.resource_type
            if sink.family == "publisher" and not sink.options.get("target") and sink.name in found:
                written = found[sink.name].type  # a publisher to a declared queue/topic/stream
            add(sink.name, written, sink=sink.name)
        return found

    # ---------------------------------------------------------------------- declaring handlers

    def _declare(self, trigger: Trigger, name: str | None, options: Mapping[str, Any]) -> Callable[[F], F]:
        unknown = set(options) - OPTION_NAMES
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(OPTION_NAMES))}"
            )
        from corefn.policy import check_options

        options = check_options(self, options)

        merged = self.defaults.merged(**options)
        if merged.idempotent is not None:  # True, False or Idempotency(...), here or in the app's defaults
            from corefn.idempotency import DEFAULT_TABLE, Idempotency

            setting = Idempotency.of(merged.idempotent)
            merged = merged.replace(idempotent=setting)
            if setting is not None and setting.table == DEFAULT_TABLE and DEFAULT_TABLE not in self._sinks:
                self.table(DEFAULT_TABLE, key="id")  # where idempotent=True keeps its records

        def register(fn: F) -> F:
            if getattr(fn, "is_flow", False) is True:  # a trigger applied to a flow starts it
                self._flow_trigger(fn, trigger, name, options)
                return fn
            handler_name = check_name(name or fn.__name__, "handler")
            if handler_name in self._handlers:
                raise ConfigurationError(f"handler {handler_name!r} is declared twice in app {self.name!r}")
            spec = HandlerSpec(
                name=handler_name,
                handler=fn,
                trigger=trigger,
                options=merged,
                takes_context=_takes_context(fn),
                is_async=_is_async(fn),
            )
            self._handlers[handler_name] = spec
            self._router = None
            try:
                self.resources()
            except ConfigurationError:
                del self._handlers[handler_name]
                raise
            return fn

        return register

    def http(self, methods: str | Iterable[str], route: str, *, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """``@app.http("GET", "/devices/{id}")``; ``methods`` may be a list or ``"*"``."""
        wanted = (methods,) if isinstance(methods, str) else tuple(methods)
        wanted = tuple(m.upper() for m in wanted)
        bad = [m for m in wanted if m not in HTTP_METHODS]
        if bad or not wanted:
            raise ConfigurationError(f"unknown HTTP method(s) {bad or wanted}")
        if route == "/_corefn" or route.startswith("/_corefn/"):
            raise ConfigurationError(f"HTTP route {route!r}: /_corefn/ is reserved for corefn run's local console")
        return self._declare(HttpTrigger(wanted, route), name, options)

    def get(self, route: str, **options: Any) -> Callable[[F], F]:
        return self.http("GET", route, **options)

    def post(self, route: str, **options: Any) -> Callable[[F], F]:
        return self.http("POST", route, **options)

    def put(self, route: str, **options: Any) -> Callable[[F], F]:
        return self.http("PUT", route, **options)

    def delete(self, route: str, **options: Any) -> Callable[[F], F]:
        return self.http("DELETE", route, **options)

    def storage(
        self,
        bucket: str,
        *,
        on: str | tuple[str, ...] | list[str] = "created",
        prefix: str = "",
        suffix: str = "",
        name: str | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        """Objects created (or deleted, archived, metadata_updated; ``"*"`` for all) in ``bucket``
        whose key starts with ``prefix`` and ends with ``suffix``."""
        trigger = StorageTrigger(check_name(bucket, "bucket"), check_operations(on), prefix, suffix)
        return self._declare(trigger, name, options)

    def queue(self, queue: str, *, batch: bool = False, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """One message per call; with ``batch=True`` the handler gets a :class:`~corefn.dispatch.Batch`."""
        return self._declare(QueueTrigger(check_name(queue, "queue"), batch), name, options)

    def topic(
        self, topic: str, *, batch: bool = False, subscription: str | None = None, name: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        return self._declare(TopicTrigger(check_name(topic, "topic"), batch, subscription), name, options)

    def timer(self, schedule: str, *, tz: str = "UTC", name: str | None = None, **options: Any) -> Callable[[F], F]:
        """A 5-field cron ``schedule`` evaluated in the IANA time zone ``tz`` (functions run in UTC:
        say ``tz="Asia/Seoul"`` when the business means Seoul time)."""
        _check_tz(tz)
        return self._declare(TimerTrigger(schedule, tz), name, options)

    def stream(
        self,
        stream: str,
        *,
        batch: bool = False,
        start: str = "latest",
        name: str | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        """One record per call, in order per partition; a failing record blocks its partition."""
        if start not in ("latest", "earliest"):
            raise ConfigurationError("stream start must be 'latest' or 'earliest'")
        return self._declare(StreamTrigger(check_name(stream, "stream"), batch, start), name, options)  # type: ignore[arg-type]

    def nosql(self, table: str, *, batch: bool = False, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """One change of ``table`` per call (insert, modify, remove or upsert)."""
        return self._declare(NoSqlTrigger(check_name(table, "table"), batch), name, options)

    def authorizer(self, name: str | None = None, *, response: str = "simple", **options: Any) -> Callable[[F], F]:
        """A gateway authorizer (API Gateway REQUEST / TOKEN Lambda authorizers): the handler gets
        an :class:`~corefn.events.authorize.AuthorizeRequest` and returns ``Allow``, ``Deny`` or a bool."""
        return self._declare(AuthorizerTrigger(response), name, options)  # type: ignore[arg-type]

    def invoke(self, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Direct invocation with a JSON payload; the handler's return value is the answer."""
        return self._declare(InvokeTrigger(), name, options)

    # ------------------------------------------------------------------------ declaring flows

    @property
    def flows(self) -> tuple[FlowSpec, ...]:
        return tuple(self._flows.values())

    def get_flow(self, name: str) -> FlowSpec:
        try:
            return self._flows[name]
        except KeyError:
            raise ConfigurationError(f"app {self.name!r} has no flow {name!r} (declared: {', '.join(self._flows) or 'none'})") from None

    def flow(self, name: str, steps: Node | list[Node] | tuple[Node, ...], *, timeout: float = 300) -> FlowSpec:
        """Declare a flow of invoke handlers (see :mod:`corefn.flows`); ``steps`` is a node or a
        list (a sequence); ``timeout`` bounds a whole run, in seconds. Apply a trigger decorator
        to the returned flow to start a run per event: ``app.storage("originals")(flow)``."""
        from corefn.flows.spec import FlowSpec, as_node

        if name in self._flows:
            raise ConfigurationError(f"flow {name!r} is declared twice in app {self.name!r}")
        spec = FlowSpec(name, as_node(steps), timeout)
        self._flows[name] = spec
        return spec

    def _flow_trigger(self, flow: Any, trigger: Trigger, name: str | None, options: Mapping[str, Any]) -> None:
        from corefn.flows.spec import FlowStarter

        if not any(declared is flow for declared in self._flows.values()):
            raise ConfigurationError(f"flow {flow.name!r} is not declared by app {self.name!r}")
        if getattr(trigger, "batch", False):
            raise ConfigurationError(f"flow {flow.name!r}: a batch trigger cannot start a flow (one run per event: drop batch=True)")
        self._declare(trigger, name or flow.name, options)(FlowStarter(flow.name))

    # ------------------------------------------------------------------------ declaring sinks

    def _sink(self, family: SinkFamily, name: str, options: Mapping[str, Any]) -> Any:
        check_name(name, "sink")
        spec = SinkSpec(family, name, dict(options))
        old = self._sinks.get(name)
        if old is not None:
            if old != spec:
                raise ConfigurationError(f"sink {name!r} is declared twice with different settings")
            return self._sink_objects[name]
        self._sinks[name] = spec
        try:
            self.resources()
        except ConfigurationError:
            del self._sinks[name]
            raise
        from corefn.sinks import SinkHandle

        handle = SinkHandle(self, spec)
        self._sink_objects[name] = handle
        return handle

    def object_store(self, name: str, **options: Any) -> ObjectStore:
        """A bucket / container; the backend comes from ``COREFN_SINK_<NAME>`` (a local folder by default)."""
        return self._sink("object", name, options)  # type: ignore[no-any-return]

    def table(self, name: str, *, key: str = "id", sort_key: str | None = None, **options: Any) -> Table:
        """A NoSQL table keyed by ``key`` (partition key) and optionally ``sort_key``."""
        return self._sink("table", name, {"key": key, "sort_key": sort_key, **options})  # type: ignore[no-any-return]

    def cache(self, name: str, **options: Any) -> Cache:
        return self._sink("cache", name, options)  # type: ignore[no-any-return]

    def sql(self, name: str, **options: Any) -> Sql:
        return self._sink("sql", name, options)  # type: ignore[no-any-return]

    def publisher(self, name: str, *, target: str | None = None, **options: Any) -> Publisher:
        """Publish to queue/topic/stream ``name``; ``target`` says which when no trigger of this app
        declares it."""
        if target is not None and target not in names("message"):
            raise ConfigurationError(f"publisher target must be one of {', '.join(names('message'))}")
        return self._sink("publisher", name, {"target": target, **options} if target else options)  # type: ignore[no-any-return]


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect on the cold path


def _code(fn: Callable[..., Any]) -> Any:
    target = getattr(fn, "__func__", fn)  # bound methods
    return getattr(target, "__code__", None)


def _is_async(fn: Callable[..., Any]) -> bool:
    code = _code(fn)
    return bool(code is not None and code.co_flags & _CO_COROUTINE)


def _takes_context(fn: Callable[..., Any]) -> bool:
    """``(event)`` or ``(event, ctx)``: decided once, from the code object (``inspect`` costs
    milliseconds to import on a cold start); callables without one fall back to ``inspect``."""
    code = _code(fn)
    if code is None:
        import inspect

        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return False
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            return True
        count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)
    else:
        if code.co_flags & 0x04:  # *args
            return True
        count = code.co_argcount - (1 if hasattr(fn, "__self__") else 0)
        defaults = getattr(getattr(fn, "__func__", fn), "__defaults__", None) or ()
        count = max(min(count, 2), count - len(defaults))
    if count not in (1, 2):
        raise ConfigurationError(f"handler {getattr(fn, '__name__', fn)!r} must take (event) or (event, ctx)")
    return count == 2


def _check_tz(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {tz!r}; use an IANA name such as 'Asia/Seoul' or 'UTC'") from None
