"""The adapter plugin interface, and the registry that finds providers without knowing them.

A provider is a :class:`~corefn.kit.Provider` value (:mod:`corefn.kit`): a name and an
ordered list of :class:`Shape` classes, one small class per payload shape (Mangum's design), plus
the optional steps it declares. A shape recognises its payload with a cheap,
structural ``matches`` (the provider's *signature*: ``Records[].eventSource == "aws:sqs"``,
CloudEvents ``specversion``, ``__ow_method``), then reads it with ``to_events`` and answers with
``to_response``. Recognition is explicit and ordered: the first shape whose signature matches
owns the payload, and if it then finds a field missing that is an
:class:`~corefn.errors.EventShapeError`, never a fall-through to another shape or to "invoke".

An adapter may also complete each event from the deployment (its bind step: the queue an
Azure binding object came from, a Pub/Sub message read as the stream its handler declared):
:func:`handle` runs that step for every entry point and for :func:`corefn.testing.call`, so
there is one delivery flow.

Providers are found through the ``corefn.adapters`` entry-point group. Scanning entry points
costs tens of milliseconds, so it happens only when the cloud is not known: ``get_adapter("aws")``
first tries the conventional module ``corefn_aws`` (attribute ``adapter``), and generated entry
points import their adapter directly.

Detection rules (the JSON-form contract):

1. With a cloud named, only that cloud's shapes are tried. If none matches but another cloud's
   shape does, that is a :class:`~corefn.errors.WrongCloudError`; if no cloud's shape matches,
   the payload is a direct invoke.
2. Without a cloud, every adapter is tried (user-registered first); a payload no shape matches is
   an :class:`~corefn.errors.UnrecognizedPayloadError` — arbitrary JSON is never guessed to be an
   invoke.
3. ``shape="invoke"`` forces a direct invoke; any other ``shape`` names one shape and skips
   detection (its ``to_events`` still validates the payload).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping

from corefn.dispatch import dispatch, logical_names, pinned_handler  # (`import corefn` has loaded it)
from corefn.errors import ConfigurationError, EventShapeError, PayloadError, UnrecognizedPayloadError, WrongCloudError
from corefn.events.base import Event
from corefn.events.invoke import InvokeEvent
from corefn.kit import Failure, PayloadShape, Provider, Target, as_provider, load_sample, unbound

__all__ = [
    "ENTRY_POINT_GROUP", "Parsed", "Provider", "Shape", "Target", "WarmupShape", "all_adapters", "deadline_in", "deliver",
    "find_shape", "get_adapter", "handle", "installed_clouds", "internal_error", "load_sample", "parse", "read",
    "register", "shape_named", "unregister",
]  # fmt: skip

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn.app import App
    from corefn.context import Context
    from corefn.dispatch import DispatchResult
    from corefn.kit import Shape

ENTRY_POINT_GROUP = "corefn.adapters"

# ---------------------------------------------------------------------------- warm-up pings


class WarmupShape(PayloadShape):
    """Keep-warm pings every provider shares: corefn's own ``{"corefn": "warmup"}`` and the
    ``serverless-plugin-warmup`` form ``{"source": "serverless-plugin-warmup"}``. Adapters put it
    first in their ``shapes`` so a ping never reaches user code: the plugin's rule is that a
    function "returns early" on its ping without running its logic
    (https://github.com/juanjoDiaz/serverless-plugin-warmup#on-the-function-side)."""

    provider: ClassVar[str] = "corefn"
    name: ClassVar[str] = "warmup"
    kind: ClassVar[str] = "warmup"
    failure: ClassVar[Failure] = Failure.RESULT  # never runs user code: nothing can fail

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and (raw.get("corefn") == "warmup" or raw.get("source") == "serverless-plugin-warmup")

    def to_events(self) -> list[Event]:
        return []

    def to_response(self, result: DispatchResult | None) -> Any:
        return {"warmup": True}


# --------------------------------------------------------------------------------- registry

_registered: list[Provider] = []  # user-supplied adapters, consulted first
_loaded: dict[str, Provider] = {}
_broken: dict[str, ConfigurationError] = {}  # entry points whose object is not a Provider


def register(adapter: Provider) -> None:
    """Add an adapter ahead of the installed ones (tests, custom payload sources)."""
    adapter = as_provider(adapter, "the adapter given to register()")
    _registered.insert(0, adapter)
    _loaded[adapter.name] = adapter


def unregister(name: str) -> None:
    _registered[:] = [a for a in _registered if a.name != name]
    _loaded.pop(name, None)


def get_adapter(name: str) -> Provider:
    """The adapter called ``name``: registered, then module ``corefn_<name>``, then entry points."""
    found = _loaded.get(name)
    if found is not None:
        return found
    try:
        module = importlib.import_module(f"corefn_{name}")
        found = getattr(module, "adapter", None)
        found = None if found is None else as_provider(found, f"corefn_{name}.adapter")
    except ImportError as exc:
        if exc.name not in (f"corefn_{name}", None):
            raise  # the adapter exists but one of its own imports failed: say so
        found = None
    if found is None:
        found = _entry_points().get(name)
    if found is None and name in _broken:
        raise _broken[name]
    if found is None:
        known = installed_clouds()
        raise ConfigurationError(f"unknown cloud {name!r}; installed adapters: {', '.join(known)}")
    _loaded[name] = found
    return found


def _entry_points() -> dict[str, Provider]:
    cached: dict[str, Provider] | None = getattr(_entry_points, "_cached", None)
    if cached is None:
        from importlib.metadata import entry_points

        cached = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in _loaded:
                cached[ep.name] = _loaded[ep.name]
                continue
            try:
                cached[ep.name] = as_provider(ep.load(), f"entry point {ep.name} = {ep.value}")
            except ConfigurationError as exc:  # not a Provider: detection skips it, naming it says why
                _broken[ep.name] = exc
            except (ImportError, AttributeError):  # a broken or half-installed adapter claims nothing
                continue
        _entry_points._cached = cached  # type: ignore[attr-defined]
    return cached


def installed_clouds() -> list[str]:
    """The names of the installed adapters (``corefn.adapters`` entry points), sorted, without
    importing any: what ``corefn deploy`` targets when no ``--cloud`` is given."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def __getattr__(name: str) -> Any:
    """``BUILTIN_CLOUDS`` was a fixed tuple of four; code written against it now gets what is
    installed, so a fifth cloud is never left out."""
    if name == "BUILTIN_CLOUDS":
        return tuple(installed_clouds())
    if name == "Shape":  # a typing.Protocol: typing is not imported on a cold start (corefn.kit)
        from corefn.kit import _protocols

        return _protocols.Shape
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_adapters() -> list[Provider]:
    """Registered adapters first, then every installed one, each once."""
    seen: dict[str, Provider] = {a.name: a for a in _registered}
    for name, adapter in _entry_points().items():
        seen.setdefault(name, adapter)
    return list(seen.values())


# -------------------------------------------------------------------------------- detection


class Parsed:
    """A payload read: its cloud, the shape that claimed it (None for a direct invoke no shape
    claimed) and its events."""

    __slots__ = ("cloud", "shape", "events")

    def __init__(self, cloud: str | None, shape: Shape | None, events: list[Event]) -> None:
        self.cloud = cloud
        self.shape = shape
        self.events = events

    @property
    def shape_name(self) -> str:
        return self.shape.name if self.shape is not None else "invoke"

    @property
    def is_warmup(self) -> bool:
        return self.shape is not None and self.shape.kind == "warmup"


def find_shape(adapter: Provider, raw: Any) -> type[Shape] | None:
    for shape in adapter.shapes:
        if shape.matches(raw):
            return shape
    return None


def read(adapter_name: str, shape: type[Shape], raw: Any) -> tuple[Shape, list[Event]]:
    """Instantiate ``shape`` on ``raw`` and read its events, turning any stray lookup or type
    error inside the shape into an EventShapeError: a user never sees a bare KeyError."""
    try:
        instance = shape(raw)
        return instance, instance.to_events()
    except PayloadError:
        raise
    except KeyError as exc:
        raise EventShapeError(adapter_name, shape.name, str(exc.args[0]) if exc.args else "?") from exc
    except (TypeError, ValueError, AttributeError, IndexError, OverflowError, OSError) as exc:
        raise EventShapeError(adapter_name, shape.name, "?", f"is malformed ({type(exc).__name__}: {exc})") from exc


def parse(raw: Any, cloud: str | None = None, shape: str | None = None) -> Parsed:
    """Detect and read a provider payload under the rules in this module's docstring."""
    if shape == "invoke":
        return Parsed(cloud, None, [InvokeEvent(payload=raw)])
    if cloud is not None:
        adapter = get_adapter(cloud)
        if shape is not None:
            instance, events = read(cloud, shape_named(adapter, shape), raw)
            return Parsed(cloud, instance, events)
        found = find_shape(adapter, raw)
        if found is not None:
            instance, events = read(cloud, found, raw)
            return Parsed(cloud, instance, events)
        for other in all_adapters():
            if other.name != cloud:
                theirs = find_shape(other, raw)
                if theirs is not None and theirs.kind != "warmup":
                    raise WrongCloudError(cloud, other.name, theirs.name)
        return Parsed(cloud, None, [InvokeEvent(payload=raw)])
    for adapter in all_adapters():
        found = find_shape(adapter, raw)
        if found is not None and (shape is None or found.name == shape):
            instance, events = read(adapter.name, found, raw)
            return Parsed(adapter.name, instance, events)
    raise UnrecognizedPayloadError(None, "give --cloud NAME (a payload no shape claims is then a direct invoke)")


# ---------------------------------------------------------------------------- run time glue


def handle(
    adapter: Provider,
    app: App,
    raw: Any,
    ctx: Context,
    *,
    pinned: str | None = None,
    shape: type[Shape] | None = None,
    names: Mapping[str, str] | None = None,
) -> Any:
    """The whole flow of one delivery on a cloud, and the only one: every generated entry point
    and :func:`corefn.testing.call` come here (``corefn invoke --event`` runs :func:`deliver`,
    the same flow without the provider's answer).

    1. The shape: the one the entry point knows (``shape``), else detected.
    2. Warm-up pings are answered without running user code.
    3. Each event goes through its bind step with the :class:`Target`: the pinned
       handler (``pinned``, else ``COREFN_HANDLER``) and the resource ``names`` (else
       ``COREFN_NAMES``).
    4. Dispatch, then the shape's answer in the provider's form; an HTTP delivery always gets
       one (see :func:`internal_error`).

    A payload no shape of this adapter claims goes to the app's invoke handler, if it has one
    and the pin allows it (its result is the answer, its exception raised); otherwise it is an
    :class:`UnrecognizedPayloadError`.
    """
    instance, result = deliver(adapter, app, raw, ctx, pinned=pinned, shape=shape, names=names)
    if instance is None:  # a direct invoke
        assert result is not None
        if result.failed:
            raise result.failed[0].error  # type: ignore[misc]  # the caller of a sync invoke sees the error
        return result.value()
    if result is None or instance.kind != "http":  # a warm-up ping has no result
        return instance.to_response(result)  # type: ignore[arg-type]
    try:
        return instance.to_response(result)
    except Exception as error:  # e.g. a response the provider's library cannot build
        return instance.to_response(internal_error(ctx, error))


def deliver(
    adapter: Provider,
    app: App,
    raw: Any,
    ctx: Context,
    *,
    pinned: str | None = None,
    shape: type[Shape] | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[Shape | None, DispatchResult | None]:
    """Steps 1 to 3 of :func:`handle` and the dispatch: the shape that read the payload (``None``
    for a direct invoke) and what became of its events (``None`` for a warm-up ping)."""
    pinned = pinned_handler(pinned)
    names = logical_names() if names is None else names
    spec = app.handler(pinned) if pinned else None
    if shape is None:
        found = find_shape(adapter, raw)
    else:  # the entry point knows its trigger; a keep-warm ping may still reach it
        found = next((s for s in adapter.shapes if s.kind == "warmup" and s.matches(raw)), shape)
    if found is None:
        if spec is not None and spec.kind != "invoke":
            detail = f"handler {pinned!r} serves {spec.kind} events and was given a payload no {adapter.name} shape claims"
            raise UnrecognizedPayloadError(adapter.name, detail)
        if not app.handlers_of("invoke"):
            raise UnrecognizedPayloadError(adapter.name, "and the app declares no invoke handler")
        return None, dispatch(app, [InvokeEvent(payload=raw)], ctx, pinned=pinned, names=names)
    instance, events = read(adapter.name, found, raw)
    if found.kind == "warmup":
        return instance, None
    if adapter.bind is not unbound:  # the default binds nothing: no Target to build
        target = Target(app, spec, names)
        events = [adapter.bind(event, target) for event in events]
    if found.kind != "http":
        return instance, dispatch(app, events, ctx, pinned=pinned, names=names)
    try:
        return instance, dispatch(app, events, ctx, pinned=pinned, names=names)
    except Exception as error:  # the handler's own failure is already a 500; this is anything else
        return instance, internal_error(ctx, error)


def internal_error(ctx: Context, error: BaseException) -> DispatchResult:
    """The one rule for an HTTP delivery that failed outside the handler (the dispatcher already
    answers a handler's own exception so): a 500 whose body names the invocation id, and the
    error logged with that id, on every cloud. Without it the failure would escape the function
    and each platform would answer its own way (API Gateway's 502, the Functions host's bare 500)."""
    from corefn.dispatch import DispatchResult
    from corefn.events.http import HttpResponse
    from corefn.log import get_logger

    get_logger("adapters").error(
        "HTTP delivery failed: %s: %s", type(error).__name__, error, exc_info=error,
        extra={"invocation_id": ctx.invocation_id, "function": ctx.function, "cloud": ctx.cloud},
    )
    body = {"error": "internal server error", "invocation_id": ctx.invocation_id}
    return DispatchResult([], HttpResponse.json(body, 500))


def shape_named(adapter: Provider, name: str) -> type[Shape]:
    """The shape ``name`` of ``adapter`` (what ``--shape`` and generated entry points name)."""
    named = next((s for s in adapter.shapes if s.name == name), None)
    if named is None:
        names = ", ".join(s.name for s in adapter.shapes)
        raise ConfigurationError(f"{adapter.name} has no shape {name!r}; its shapes: {names}")
    return named


def deadline_in(milliseconds: float | None) -> float | None:
    """A ``Context.deadline`` from "milliseconds remaining" (what Lambda's context reports)."""
    return None if milliseconds is None else time.time() + milliseconds / 1000

