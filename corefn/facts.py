"""Dated provider facts: which service carries each trigger and sink, limits, prices.

Facts are data, never code: each installed adapter ships TOML files in its own ``facts``
package (``corefn_aws/facts/services.toml``, ``limits.toml``, ``prices.toml``, ...), so a fifth
cloud brings its facts with it and nothing in ``corefn/`` changes. The lock-in report, the limits
check and the cost estimate read them through :func:`load`.

Why every fact carries ``source``: providers change their limits and prices (SQS's payload limit,
API Gateway's 29 s timeout and Lambda's memory range all moved in 2024-2026), so a number is only
as good as the page it was read from and the day it was read. Each file's ``[meta]`` table holds
that day (``checked = 2026-12-01``); each fact is a table holding a ``source`` URL (https) beside
its values. A table whose values are all tables is a grouping, not a fact, and needs no source.

File format (one TOML file per topic; the topics' own keys are documented where they are read)::

    [meta]
    checked = 2026-12-01          # a TOML date: when every fact in this file was last verified

    [limits.lambda_timeout]       # a fact: values + the provider page they come from
    max = 900
    unit = "s"
    source = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

from corefn.errors import ConfigurationError


class CloudFacts:
    """One cloud's facts: ``topics`` maps a file's stem (``services``, ``limits``, ``prices``) to
    its parsed content; ``checked`` maps the same stem to the day its facts were verified."""

    __slots__ = ("cloud", "topics", "checked")

    def __init__(self, cloud: str, topics: Mapping[str, Mapping[str, Any]], checked: Mapping[str, _dt.date]) -> None:
        self.cloud = cloud
        self.topics = topics
        self.checked = checked

    def __repr__(self) -> str:
        return f"CloudFacts({self.cloud!r}, topics={sorted(self.topics)})"

    def topic(self, name: str) -> Mapping[str, Any]:
        """A topic's content, or an empty mapping when this cloud ships no such file (a cloud that
        has no prices yet is reported as such by the caller, not as an error here)."""
        return self.topics.get(name, {})

    def get(self, topic: str, dotted: str) -> Mapping[str, Any] | None:
        """The fact at ``dotted`` (``"limits.lambda_timeout"``) in ``topic``, or None."""
        node: Any = self.topic(topic)
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, Mapping) else None


def facts_package(cloud: str) -> str:
    """The package holding ``cloud``'s facts: its Provider's ``facts`` (``corefn_<cloud>.facts``
    unless the adapter names another)."""
    from corefn.adapters import get_adapter

    return get_adapter(cloud).facts


def load(cloud: str) -> CloudFacts:
    """Every facts file of ``cloud``'s adapter, parsed and checked (see the module docstring)."""
    package = facts_package(cloud)
    try:
        folder = resources.files(package)
    except ModuleNotFoundError:
        return CloudFacts(cloud, {}, {})
    topics: dict[str, Mapping[str, Any]] = {}
    checked: dict[str, _dt.date] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        stem = item.name[: -len(".toml")]
        where = f"{package}/{item.name}"
        try:
            data = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{where}: not valid TOML ({exc})") from exc
        checked[stem] = _checked_date(data, where)
        for path, fact in iter_facts(data):
            _check_source(fact, f"{where}: [{path}]")
        topics[stem] = data
    return CloudFacts(cloud, topics, checked)


def iter_facts(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every fact table in ``data`` (a table with at least one non-table value), by dotted path;
    ``meta`` is skipped at the top level."""
    for key, value in data.items():
        if not prefix and key == "meta":
            continue
        if isinstance(value, Mapping):
            path = f"{prefix}.{key}" if prefix else key
            if any(not isinstance(v, Mapping) for v in value.values()):
                yield path, value
            yield from iter_facts(value, path)


def _checked_date(data: Mapping[str, Any], where: str) -> _dt.date:
    meta = data.get("meta")
    day = meta.get("checked") if isinstance(meta, Mapping) else None
    if not isinstance(day, _dt.date) or isinstance(day, _dt.datetime):
        raise ConfigurationError(f"{where}: [meta] needs checked = YYYY-MM-DD (the day its facts were verified)")
    return day


def _check_source(fact: Mapping[str, Any], where: str) -> None:
    source = fact.get("source")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise ConfigurationError(f"{where} needs source = \"https://...\" (the provider page the fact comes from)")


def installed_clouds() -> list[str]:
    """The cloud targets installed here (adapters found by entry point or registered), sorted."""
    from corefn.adapters import all_adapters

    return sorted(a.name for a in all_adapters())


def load_all(clouds: list[str] | None = None) -> dict[str, CloudFacts]:
    """Facts of ``clouds`` (default: every installed cloud), by cloud name."""
    return {cloud: load(cloud) for cloud in (clouds if clouds is not None else installed_clouds())}
