"""What a report is about, whatever it was read from: handlers with their triggers, the sinks they
write to, notable provider features, and provider-specific code, each with where it was found.

Two readers fill it: :func:`from_app` (a corefn App's declarations plus an AST scan of its handler
modules) and :mod:`corefn.report.from_template` (an AWS SAM / CloudFormation template). The
classifier then knows nothing of either source.

These are plain dataclasses, not ``Record``: the report is a command-line tool, never on a cold
start, and the extra import time of ``dataclasses`` does not matter here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App

#: the trigger fields the JSON form carries, per trigger kind (``corefn inspect``'s event kinds)
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    "http": ("route", "methods"),
    "storage": ("bucket", "operations", "prefix", "suffix"),
    "queue": ("queue",),
    "topic": ("topic",),
    "timer": ("schedule", "tz"),
    "stream": ("stream",),
    "nosql": ("table",),
    "invoke": (),
    "authorizer": ("response",),
}
SINK_KINDS = ("object", "table", "cache", "sql", "publisher")


@dataclass
class Handler:
    """One handler: ``trigger`` is ``{"kind": ..., <that kind's fields>}``. ``options`` keeps the
    declared knobs the differences look at (memory, timeout, ordered, max_attempts, fifo)."""

    name: str
    trigger: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    where: str | None = None
    sinks: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.trigger["kind"])


@dataclass(frozen=True)
class Need:
    """A sink or a notable feature the app relies on (``what`` is ``sink`` or ``feature``)."""

    what: str
    kind: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    where: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Finding:
    """A provider-specific point in the code or the template. ``provider`` is the cloud it ties
    the app to, or None when it ties it to whichever cloud runs it (a ``.raw`` read)."""

    handler: str
    name: str
    text: str
    provider: str | None = None
    effort: str = "M"
    scored: bool = True  # False for what could not be read (an include): an unknown, not a tie
    action: str = "Remove"  # the checklist's verb for it


@dataclass
class Subject:
    app: str
    source: str  # "app" | "template"
    handlers: list[Handler] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    uses_tmp: set[str] = field(default_factory=set)  # handlers whose code touches /tmp


def trigger_dict(trigger: Any) -> dict[str, Any]:
    """A corefn trigger spec as the JSON form's ``trigger`` object."""
    out: dict[str, Any] = {"kind": trigger.kind}
    for name in TRIGGER_FIELDS.get(trigger.kind, ()):
        value = getattr(trigger, name, None)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def from_app(app: App) -> Subject:
    """The report's subject from an App: its declarations, then its handler modules' source."""
    from corefn.report.scan import scan_modules

    subject = Subject(app=app.name, source="app")
    files: dict[Path, list[tuple[str, str]]] = {}
    for spec in app.handlers:
        options = spec.options
        kept = {
            "memory": options.memory,
            "timeout": options.timeout,
            "max_attempts": options.max_attempts,
            "ordered": spec.ordered,
            "batch": spec.batch,
        }
        where = _where(spec.handler)
        subject.handlers.append(Handler(spec.name, trigger_dict(spec.trigger), kept, where))
        for cloud in sorted(options.provider):
            for key in sorted(options.provider[cloud]):
                subject.findings.append(
                    Finding(spec.name, f"provider option {cloud}.{key}",
                            f"setting '{key}' applies on {cloud} only; the other targets ignore it",
                            provider=cloud, effort="S", action="Find each target's equivalent of")
                )
        path = _file(spec.handler)
        if path is not None:
            files.setdefault(path, []).append((spec.name, getattr(spec.handler, "__name__", spec.name)))
    resources = app.resources()
    pinned = _pinned_sinks()
    for sink in app.sinks:
        settings: dict[str, Any] = dict(sink.options)
        if sink.name in pinned:
            settings["pinned"] = pinned[sink.name]
        if sink.kind == "publisher":
            found = resources.get(sink.name)
            settings["target"] = found.type if found is not None else sink.resource_type
        subject.needs.append(Need("sink", sink.kind, sink.name, settings))
    for flow in getattr(app, "flows", ()):
        subject.needs.append(_flow_need(flow))
    if files:
        scan_modules(subject, files, [s.name for s in app.sinks])
    return subject


def _flow_need(flow: Any) -> Need:
    """A declared flow is a workflow each cloud must run: a feature, portable by declaration (corefn
    writes it once), carried by that cloud's workflow service, so never a lock-in point."""
    from corefn.flows.spec import Task, walk

    nodes = list(walk(flow.root))
    tasks = sorted({n.handler for n in nodes if isinstance(n, Task)})
    detail = f"a corefn flow of {len(nodes)} steps over {', '.join(tasks) or 'no handler'}"
    from corefn.flows.deploying import constructs

    used = list(dict.fromkeys(construct for _, construct in constructs(flow)))  # for the differences (report/differences.py)
    return Need("feature", "state-machine", flow.name, {"handler": "*", "portable": True, "calls": tasks, "constructs": used}, detail=detail)


def _pinned_sinks() -> dict[str, tuple[str, str]]:
    """Sink name → (URL scheme, config file) for the sinks the app's config file pins to a
    backend (``[sinks]`` in corefn.toml, read as the runtime reads it). Environment variables are
    per deployment and are not a property of the app."""
    import os

    from corefn.sinks import _config_file_sinks, scheme_of

    where = os.environ.get("COREFN_CONFIG", "corefn.toml")
    found = {}
    for name, url in _config_file_sinks().items():
        try:
            found[name] = (scheme_of(url), where)
        except ConfigurationError:
            continue  # the runtime reports a malformed URL when it opens the sink
    return found


def _file(fn: Any) -> Path | None:
    try:
        found = inspect.getsourcefile(inspect.unwrap(fn))
    except TypeError:
        return None
    return Path(found) if found else None


def _where(fn: Any) -> str | None:
    path = _file(fn)
    if path is None:
        return None
    try:
        line = inspect.getsourcelines(inspect.unwrap(fn))[1]
    except (OSError, TypeError):
        return str(path)
    return f"{_short(path)}:{line}"


def _short(path: Path) -> str:
    """A path relative to the working directory when it is under it (reports are read from the
    project folder), else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
