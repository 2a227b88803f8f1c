"""The adapter kit: what a provider's package imports from corefn to declare itself
(:class:`Provider`) and read its payloads (:class:`PayloadShape`), both in this module (one
module: every cold start imports it), to write its sink backends (:mod:`corefn.kit.sinks`) and to
serve HTTP in a container (:mod:`corefn.kit.asgi`).
Everything here is public and stable; every other module an adapter could reach
(``corefn.sinks._errors``, ``corefn.dispatch`` ...) is private to corefn and may change (httpx's
split: private internals, a curated surface).

A payload shape is one small class (Mangum's ``handlers/``)::

    class SqsBatch(PayloadShape):
        provider = "mycloud"
        name = "queue-batch"          # what `corefn inspect` prints
        kind = "queue"                # the corefn event kind it produces
        failure = Failure.PARTIAL     # how the cloud learns that a record failed

        @classmethod
        def matches(cls, raw): ...    # the payload's signature: cheap, never raises
        def to_events(self): ...      # self.raw, read with self.reader (errors name the field)
        def to_response(self, result): ...

:class:`PayloadShape` keeps ``raw``, builds the :class:`~corefn.payload.Reader` whose errors name
the provider, the shape and the field, and declares as data how its cloud answers a failed
handler (:class:`Failure`); a shape whose cloud learns of failures by an exception needs no
``to_response`` at all.

An adapter package ends with one ``adapter = Provider(...)`` naming what it has: its name, its
ordered payload shapes, the module of its deploy generator and of its sample payloads, and the
optional steps it offers. Everything it leaves out has a declared default, so the core calls
members and reads fields, and never probes an adapter object for what it happens to have::

    adapter = Provider(
        "mycloud",
        (WarmupShape, MyHttp, MyQueue),         # tried in this order
        generator="corefn_mycloud.generator",   # plan(app, app_ref) -> Plan; render(Plan) -> files
        samples="corefn_mycloud.samples",       # <trigger>.json for `corefn event mycloud TRIGGER`
        bind=lazy("corefn_mycloud._bind", "bind"),
        compile_policy=lazy("corefn_mycloud.policy", "compile_policy"),
        bundle_root="src",
    )

Steps are plain functions. :func:`lazy` defers a step's import to its first call, so importing
the adapter (which every cold start does) costs only its shapes.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence

from corefn.dispatch import raise_first_failure
from corefn.errors import ConfigurationError, EventShapeError
from corefn.events.base import Event
from corefn.events.http import gateway_request
from corefn.payload import Reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, ClassVar

    from corefn.app import App
    from corefn.context import Context
    from corefn.deadletters import DeadLetterQueue
    from corefn.dispatch import DispatchResult
    from corefn.kit._protocols import Generator, Shape
    from corefn.policy import CompiledPolicy, RetryPolicy
    from corefn.specs import HandlerSpec


class Failure:
    """How a cloud learns that a handler failed, so that the message is retried or
    dead-lettered and never dropped. Each shape names its cloud's rule for its trigger.

    Three constants compared by identity (``shape.failure is Failure.PARTIAL``), each with the
    ``name`` and ``value`` an enum member would have. Not an :class:`enum.Enum`: this module is
    on every cold start, and ``enum`` costs more to import (~1 ms) than the whole kit."""

    __slots__ = ("name", "value")

    #: the platform retries only when the invocation raises (Azure's non-HTTP triggers, Google's
    #: event functions, Lambda's S3 / SNS / EventBridge async invokes): raise the first failure
    RAISE: ClassVar[Failure]
    #: the answer names the failed records and the rest count as done (Lambda's
    #: ``batchItemFailures`` for SQS, Kinesis and DynamoDB Streams)
    PARTIAL: ClassVar[Failure]
    #: the answer is a value that says "failed" (an HTTP 500, an OpenWhisk activation's
    #: ``{"error": ...}``, an Azure custom-handler host response)
    RESULT: ClassVar[Failure]

    name: str
    value: str

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __repr__(self) -> str:
        return f"<Failure.{self.name}: {self.value!r}>"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Unpickled, a constant is the same object (identity comparisons keep working)."""
        return _failure_named, (self.name,)

    @classmethod
    def members(cls) -> tuple[Failure, ...]:
        """Every constant, in declaration order."""
        return cls.RAISE, cls.PARTIAL, cls.RESULT


Failure.RAISE = Failure("RAISE", "raise")
Failure.PARTIAL = Failure("PARTIAL", "partial")
Failure.RESULT = Failure("RESULT", "result")


def _failure_named(name: str) -> Failure:
    failure: Failure = getattr(Failure, name)
    return failure


class PayloadShape:
    """The base of one payload shape of one provider (see the module docstring).

    Subclasses set ``provider``, ``name``, ``kind`` and, unless their cloud answers failures by
    an exception, ``failure`` and ``to_response``. ``reader`` is built once per class, when the
    class is defined (a Reader holds only the two names): building one per payload cost ~0.7 µs
    on every request."""

    provider: ClassVar[str] = ""
    name: ClassVar[str]
    kind: ClassVar[str]
    failure: ClassVar[Failure] = Failure.RAISE
    #: the Reader for this shape: its errors say ``<provider> <shape>: field ...``
    reader: ClassVar[Reader]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = getattr(cls, "name", None)
        if isinstance(name, str):
            cls.reader = Reader(cls.provider, name)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    @classmethod
    def matches(cls, raw: Any) -> bool:
        """Whether ``raw`` carries this shape's signature. Cheap, and never raises: detection
        walks every shape of every adapter. The base claims nothing, so a shape without a
        signature of its own is used only when named (``--shape``, a generated entry point)."""
        return False

    def to_events(self) -> list[Event]:
        raise NotImplementedError

    def to_response(self, result: DispatchResult) -> Any:
        """The provider's answer. By default the :class:`Failure.RAISE` answer: nothing when every
        handler succeeded, else the first failed handler's own exception, re-raised."""
        if self.failure is not Failure.RAISE:
            raise NotImplementedError(f"{type(self).__name__} answers failures by {self.failure.value}: write to_response")
        return raise_first_failure(result)


# ------------------------------------------------------------------------------ the provider


class Target:
    """Whom one delivery is for, as far as the deployment says: the ``app``, the handler the
    function was deployed for (``spec``, from the pin; ``None`` when events are routed by their
    resource name) and the deploy step's physical → logical resource ``names``.

    Built once per delivery by :func:`corefn.adapters.handle` and given to the bind step."""

    __slots__ = ("app", "spec", "names")

    def __init__(self, app: App, spec: HandlerSpec | None, names: Mapping[str, str]) -> None:
        self.app = app
        self.spec = spec
        self.names = names

    def logical(self, physical: str | None) -> str | None:
        """The app's name for a resource the provider named ``physical``."""
        return None if physical is None else self.names.get(physical, physical)


#: the bind step: ``event`` completed from what the deployment knows and the payload does not
#: say (the queue a binding object came from, a timer's schedule), or converted to the kind the
#: pinned handler declared (a Pub/Sub message for a stream handler). It runs on every event of a
#: delivery, after reading and before dispatch, and returns ``event`` itself when there is
#: nothing to add; ConfigurationError for a declaration the event cannot be delivered to.
Bind = Callable[["Event", Target], "Event"]
#: the retry policy step: one handler's portable policy in the cloud's own settings
PolicyCompiler = Callable[["App", "RetryPolicy"], "CompiledPolicy"]
#: the dead-letter step: the cloud's dead-letter queue that ``where`` (--queue, --subscription)
#: names, for ``corefn dead APP ... --cloud CLOUD``
DeadLetters = Callable[[Mapping[str, str]], "DeadLetterQueue"]
#: ``ctx.start_flow`` on the cloud: (context, flow name, input as JSON text held to the payload
#: limit, idempotency key or None) → the cloud's run id (see :mod:`corefn.flows.deploying`)
StartFlow = Callable[["Context", str, str, "str | None"], str]
#: the bundle step: after ``corefn deploy`` wrote the vendored code under ``out/<bundle_root>``,
#: the artifacts the cloud's tools upload, built from it (OpenWhisk's per-action zips, each
#: checked against the code limit) → the paths written
BuildBundle = Callable[["Path"], "list[Path]"]


def unbound(event: Event, target: Target) -> Event:
    """The default bind step: nothing to add, the payload names its resource and says its kind."""
    return event


def lazy(module: str, function: str) -> Callable[..., Any]:
    """``module.function``, imported on the first call: a step whose code (a generator, an SDK
    client) the cold start of a delivery must not pay for."""
    found: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not found:
            found.append(getattr(importlib.import_module(module), function))
        return found[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = function
    call.__doc__ = f"{module}.{function}, imported when first called"
    return call


class Provider:
    """A cloud's adapter (see the module docstring). ``shapes`` is ordered: the most specific
    signatures first. Every optional member has a declared default:

    - ``generator``: module with ``plan`` / ``render`` (:class:`Generator`); None: no deployment.
    - ``samples``: package of ``<trigger>.json`` payloads; None: no samples.
    - ``bind`` (:data:`Bind`): :func:`unbound`.
    - ``compile_policy`` (:data:`PolicyCompiler`) and ``dead_letters`` (:data:`DeadLetters`):
      None, the cloud has not been taught retry policies / dead-letter operations.
    - ``bundle_root``: where ``corefn deploy`` writes the vendored code in the generated project;
      None, the adapter does not bundle (its requirements name corefn instead).
    - ``facts`` and ``limits``: the package of dated provider facts (:mod:`corefn.facts`) and the
      module of the limits check's hooks (:mod:`corefn.limits.rules`); ``corefn_<name>.facts`` and
      ``corefn_<name>.limits`` by default, and a missing one means "none".
    - ``package``: the adapter's top-level package, which ``corefn deploy`` vendors into the
      bundle; by default the package of the module that builds the Provider.
    - ``deploys_flows``: whether ``generate`` compiles the app's flows into the deployment; False:
      ``corefn deploy`` refuses an app with flows, naming the cloud and the flows.
    - ``start_flow`` (:data:`StartFlow`): ``ctx.start_flow`` in the cloud's functions; None: refused
      (both in :mod:`corefn.flows.deploying`).
    - ``build_bundle`` (:data:`BuildBundle`): artifacts built from the written bundle; None: the
      bundle folder is what the provider's tools take as it is.
    """

    __slots__ = (
        "name", "shapes", "generator", "samples", "bind", "compile_policy", "dead_letters", "bundle_root", "facts", "limits",
        "package", "deploys_flows", "start_flow", "build_bundle",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        shapes: Sequence[type[Shape]],
        *,
        generator: str | None = None,
        samples: str | None = None,
        bind: Bind = unbound,
        compile_policy: PolicyCompiler | None = None,
        dead_letters: DeadLetters | None = None,
        bundle_root: str | None = None,
        facts: str | None = None,
        limits: str | None = None,
        package: str | None = None,
        deploys_flows: bool = False,
        start_flow: StartFlow | None = None,
        build_bundle: BuildBundle | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a corefn Provider needs a name, got {name!r}")
        self.name = name
        self.shapes: tuple[type[Shape], ...] = tuple(shapes)
        self.generator = generator
        self.samples = samples
        self.bind: Bind = bind
        self.compile_policy = compile_policy
        self.dead_letters = dead_letters
        self.bundle_root = bundle_root
        self.facts = facts or f"corefn_{name}.facts"
        self.limits = limits or f"corefn_{name}.limits"
        # the declaring module, as enum's functional API finds it: the caller's globals
        self.package = package or str(sys._getframe(1).f_globals.get("__name__", f"corefn_{name}")).split(".")[0]
        self.deploys_flows = deploys_flows
        self.start_flow = start_flow
        self.build_bundle = build_bundle

    def __repr__(self) -> str:
        return f"Provider({self.name!r}, {len(self.shapes)} shapes)"

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        """The deployable project for ``app`` (imported as ``app_ref``): relative path → content."""
        if self.generator is None:
            raise NotImplementedError(f"the {self.name} adapter generates no deployment")
        module = importlib.import_module(self.generator)
        if not (callable(getattr(module, "plan", None)) and callable(getattr(module, "render", None))):
            raise ConfigurationError(f"{self.generator} is not a corefn generator: it must define plan(app, app_ref) and render(plan)")
        return module.render(module.plan(app, app_ref))  # type: ignore[no-any-return]

    def sample(self, trigger: str) -> Any:
        """A fresh copy of the realistic payload for ``corefn event CLOUD TRIGGER``."""
        if self.samples is None:
            raise ConfigurationError(f"the {self.name} adapter provides no sample payloads")
        return load_sample(self.samples, self.name, trigger)


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


def as_provider(found: Any, where: str) -> Provider:
    """``found`` (what ``where`` — an entry point, a module's ``adapter`` — holds) if it is a
    :class:`Provider`; otherwise a ConfigurationError that says what to write instead."""
    if isinstance(found, Provider):
        return found
    raise ConfigurationError(f"{where} is a {type(found).__name__}, not a corefn adapter: make it corefn.kit.Provider(name, shapes, ...)")


def __getattr__(name: str) -> Any:
    """``Shape`` and ``Generator`` are ``typing.Protocol`` classes, and ``typing`` (with the ``re``
    and ``enum`` it imports) costs a Lambda cold start ~5 ms: they live in
    :mod:`corefn.kit._protocols`, imported when first named at run time."""
    if name in ("Generator", "Shape"):
        from corefn.kit import _protocols

        return getattr(_protocols, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Bind", "DeadLetters", "EventShapeError", "Failure", "Generator", "PayloadShape", "PolicyCompiler", "Provider", "Reader",
    "Shape", "StartFlow", "Target", "as_provider", "gateway_request", "lazy", "load_sample", "raise_first_failure",
    "unbound",
]  # fmt: skip
