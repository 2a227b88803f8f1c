"""The lock-in report: "what would moving clouds cost us?", from an App or from an AWS template.

``corefn report`` reads a subject (:mod:`~corefn.report.model` from an App and an AST scan of its
handler modules, or :mod:`~corefn.report.from_template` from a SAM / CloudFormation template),
classifies it against every installed cloud's facts (:mod:`~corefn.report.classify`), and renders
it as text, Markdown (with Mermaid), a self-contained HTML page (with an inline SVG drawn here), or
the JSON form (a contract; ``schema/report.schema.json`` beside this module).

What each cloud's ``corefn_<cloud>/facts/services.toml`` holds (every table with ``source``)::

    [triggers.<kind>.<id>]   support = "native" | "bridged" | "unsupported", service = "...",
                             optional: note, ordered, ordering, delivery, max_message_kb, timeout_s
    [sinks.<kind>.<id>]      support, service, optional: note, private_network = true,
                             targets (publishers), schemes (the corefn sink URL schemes it serves)
    [features.<kind>.<id>]   support, service, optional: note   (layer, direct-integration,
                             state-machine, provider-event)
    [platform.function]      service, timeout_max_s / timeout, memory_min_mb, memory_max_mb,
                             payload, note
    [platform.tmp]           text  (what local files are on that platform)
    [platform.schedule]      syntax, fields, any_zone (bool), time_zones
    [platform.network]       private  (how a function reaches a private network)

A kind with no entry is unsupported; the best entry wins (native > bridged > unsupported). For
features the same words mean: native = the cloud runs the same model as a managed service (a
layer, an ASL state machine); bridged = a counterpart exists but the definition must be rewritten
for it or another service run (Durable Functions code, API Management policies); unsupported =
nothing does the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from corefn.report.classify import Report, classify, score_rule
from corefn.report.model import Subject, from_app

if TYPE_CHECKING:
    from corefn.app import App

__all__ = ["Report", "Subject", "build", "from_app", "report_app", "report_template", "score_rule", "SCHEMA"]

#: the JSON form's schema (JSON Schema 2020-12), shipped with the package
SCHEMA = Path(__file__).with_name("schema") / "report.schema.json"


def build(subject: Subject, clouds: list[str] | None = None) -> Report:
    """Classify ``subject`` against ``clouds`` (default: every installed cloud target)."""
    from corefn.facts import load_all

    return classify(subject, load_all(clouds))


def report_app(app: App, clouds: list[str] | None = None) -> Report:
    return build(from_app(app), clouds)


def report_template(path: Path, clouds: list[str] | None = None) -> Report:
    from corefn.report.from_template import read_template

    return build(read_template(path), clouds)
