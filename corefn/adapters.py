"""The adapter plugin interface, and the registry that finds providers without knowing them.

A provider is an :class:`Adapter`: a name and an ordered list of :class:`Shape` classes, one
small class per payload shape (Mangum's design). A shape recognises its payload with a cheap,
structural ``matches`` (the provider's *signature*: ``Records[].eventSource == "aws:sqs"``,
CloudEvents ``specversion``, ``__ow_method``), then reads it with ``to_events`` and answers with
``to_response``. Recognition is explicit and ordered: the first shape whose signature matches
owns the payload, and if it then finds a field missing that is an
:class:`~corefn.errors.EventShapeError`, never a fall-through to another shape or to "invoke".

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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from corefn.errors import ConfigurationError, EventShapeError, PayloadError, UnrecognizedPayloadError, WrongCloudError
from corefn.events.base import Event
from corefn.events.invoke import InvokeEvent

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.context import Context
    from corefn.dispatch import DispatchResult

ENTRY_POINT_GROUP = "corefn.adapters"


@runtime_checkable
class Shape(Protocol):
    """One payload shape of one provider (``sqs``, ``apigw-v2``, ``eventgrid-blob``, ...).

    ``kind`` is the corefn event kind it produces, or ``"warmup"`` for keep-warm pings, whose
    ``to_events`` returns no event and whose response is sent without running user code.
    """

    name: ClassVar[str]
    kind: ClassVar[str]

    @classmethod
    def matches(cls, raw: Any) -> bool:
        """Whether ``raw`` carries this shape's signature. Cheap, and never raises."""
        ...

    def __init__(self, raw: Any) -> None: ...

    def to_events(self) -> list[Event]:
        """The payload as corefn events; raises EventShapeError naming the bad field."""
        ...

    def to_response(self, result: DispatchResult) -> Any:
        """What the provider expects back after dispatch (an HTTP response dict, a partial batch
        failure report, ``None``, ...). Raise here to make the provider retry a whole batch."""
        ...


@runtime_checkable
class Adapter(Protocol):
    """A provider. ``shapes`` is ordered: the most specific signatures first."""

    name: str
    shapes: Sequence[type[Shape]]

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        """The provider's deployable entry point and configuration for ``app`` (imported as
        ``app_ref``), as relative path → file content. Raise NotImplementedError if the adapter
        generates nothing."""
        ...

    # Optional, looked up with getattr:
    #   prepare(app, events, pinned) -> list[Event]: adjust events to the declared handler before
    #       dispatch (GCP turns a Pub/Sub message into a StreamRecord for a stream handler).
    #   sample(trigger) -> dict: a realistic payload for `corefn event CLOUD TRIGGER`.
    #   dead_letters(where) -> corefn.deadletters.DeadLetterQueue: the cloud's dead-letter queue
    #       named by `where` (--queue / --subscription), for `corefn dead APP ... --cloud CLOUD`.


# ---------------------------------------------------------------------------- warm-up pings


class WarmupShape:
    """Keep-warm pings every provider shares: corefn's own ``{"corefn": "warmup"}`` and the
    ``serverless-plugin-warmup`` form ``{"source": "serverless-plugin-warmup"}``. Adapters put it
    first in their ``shapes`` so a ping never reaches user code (the seed's cold-start advice:
    "a ping must short-circuit, not run the logic")."""

    name: ClassVar[str] = "warmup"
    kind: ClassVar[str] = "warmup"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and (raw.get("corefn") == "warmup" or raw.get("source") == "serverless-plugin-warmup")

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        return []

    def to_response(self, result: DispatchResult | None) -> Any:
        return {"warmup": True}


# --------------------------------------------------------------------------------- registry

_registered: list[Adapter] = []  # user-supplied adapters, consulted first
_loaded: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    """Add an adapter ahead of the installed ones (tests, custom payload sources)."""
    _registered.insert(0, adapter)
    _loaded[adapter.name] = adapter


def unregister(name: str) -> None:
    _registered[:] = [a for a in _registered if a.name != name]
    _loaded.pop(name, None)


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``: registered, then module ``corefn_<name>``, then entry points."""
    found = _loaded.get(name)
    if found is not None:
        return found
    try:
        module = importlib.import_module(f"corefn_{name}")
        found = getattr(module, "adapter", None)
    except ImportError as exc:
        if exc.name not in (f"corefn_{name}", None):
            raise  # the adapter exists but one of its own imports failed: say so
        found = None
    if found is None:
        found = _entry_points().get(name)
    if found is None:
        known = installed_clouds()
        raise ConfigurationError(f"unknown cloud {name!r}; installed adapters: {', '.join(known)}")
    _loaded[name] = found
    return found


def _entry_points() -> dict[str, Adapter]:
    cached: dict[str, Adapter] | None = getattr(_entry_points, "_cached", None)
    if cached is None:
        from importlib.metadata import entry_points

        cached = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in _loaded:
                cached[ep.name] = _loaded[ep.name]
                continue
            try:
                cached[ep.name] = ep.load()
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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_adapters() -> list[Adapter]:
    """Registered adapters first, then every installed one, each once."""
    seen: dict[str, Adapter] = {a.name: a for a in _registered}
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


def find_shape(adapter: Adapter, raw: Any) -> type[Shape] | None:
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
            named = next((s for s in adapter.shapes if s.name == shape), None)
            if named is None:
                names = ", ".join(s.name for s in adapter.shapes)
                raise ConfigurationError(f"{cloud} has no shape {shape!r}; its shapes: {names}")
            instance, events = read(cloud, named, raw)
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
    adapter: Adapter,
    app: App,
    raw: Any,
    ctx: Context,
    *,
    pinned: str | None = None,
    shape: type[Shape] | None = None,
) -> Any:
    """The whole flow of one delivery on a cloud: detect the shape (or use the one the entry
    point knows), short-circuit warm-up pings, dispatch, answer in the provider's form.

    A payload no shape of this adapter claims goes to the app's invoke handler, if it has one;
    otherwise it is an :class:`UnrecognizedPayloadError`.
    """
    from corefn.dispatch import dispatch, pinned_handler

    pinned = pinned_handler(pinned)  # the adapter's prepare step needs it as much as dispatch
    found = shape or find_shape(adapter, raw)
    if found is None:
        if not app.handlers_of("invoke"):
            raise UnrecognizedPayloadError(adapter.name, "and the app declares no invoke handler")
        result = dispatch(app, [InvokeEvent(payload=raw)], ctx, pinned=pinned)
        if result.failed:
            raise result.failed[0].error  # type: ignore[misc]  # the caller of a sync invoke sees the error
        return result.value()
    instance, events = read(adapter.name, found, raw)
    if found.kind == "warmup":
        return instance.to_response(None)  # type: ignore[arg-type]
    prepare = getattr(adapter, "prepare", None)
    if prepare is not None:  # e.g. GCP: a Pub/Sub message for a handler declared as a stream
        events = prepare(app, events, pinned)
    return instance.to_response(dispatch(app, events, ctx, pinned=pinned))


def load_sample(package: str, cloud: str, trigger: str) -> Any:
    """A fresh copy of ``<package>/<trigger>.json``: the realistic payload an adapter ships for
    ``corefn event CLOUD TRIGGER`` (and for users who want a starting point to edit)."""
    import json
    from importlib import resources

    folder = resources.files(package)
    available = sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))
    if trigger not in available:
        raise ConfigurationError(f"no {cloud} sample for {trigger!r}; samples: {', '.join(available)}")
    return json.loads(folder.joinpath(f"{trigger}.json").read_text(encoding="utf-8"))


def deadline_in(milliseconds: float | None) -> float | None:
    """A ``Context.deadline`` from "milliseconds remaining" (what Lambda's context reports)."""
    return None if milliseconds is None else time.time() + milliseconds / 1000

