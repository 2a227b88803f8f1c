"""Choosing the fact row that applies to one handler on one cloud.

A limit or price often depends on more than the cloud: API Gateway's timeout on whether the route
is an HTTP API or a REST API, Azure's function timeout on the hosting plan, a queue's limits on
the service behind it. Facts say so with ``when``, a list of ``"key=value"`` conditions (a list,
not a table, because a table inside a fact would itself be read as a fact without a source):

- ``kind``: the handler's trigger kind (``http``, ``queue``, ``timer``, ...);
- ``ordered``: ``true`` when the handler keeps order (streams, change feeds, FIFO queues), else ``false``;
- any other key: the handler's provider option for that cloud (``Options.provider["azure"]["plan"]``,
  the app's ``defaults`` first), falling back to the file's ``[meta] options`` table, which records
  what ``corefn deploy`` writes when the option is not given.

Among the rows of one name (the fact ``[limits.NAME]`` itself and its sub-tables), the matching row
with the most conditions wins, so a general row and its exceptions read side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec


def handler_context(app: App, spec: HandlerSpec, cloud: str, defaults: Mapping[str, Any]) -> dict[str, str]:
    """The values ``when`` conditions are tested against for ``spec`` on ``cloud``."""
    context = {key: str(value) for key, value in defaults.items()}
    for source in (app.defaults.provider.get(cloud, {}), spec.options.provider.get(cloud, {})):
        context.update({key: str(value) for key, value in source.items() if not isinstance(value, Mapping)})
    context["kind"] = spec.kind
    context["ordered"] = "true" if spec.ordered else "false"
    return context


def conditions(row: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in row.get("when", ()):
        key, _, value = str(item).partition("=")
        found[key.strip()] = value.strip()
    return found


def candidates(table: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The rows named ``name`` in ``table``: the fact itself (when it holds values) and its sub-tables."""
    node = table.get(name)
    if not isinstance(node, Mapping):
        return []
    rows: list[Mapping[str, Any]] = []
    if any(not isinstance(v, Mapping) for v in node.values()):
        rows.append(node)
    rows.extend(v for v in node.values() if isinstance(v, Mapping))
    return rows


def matches(row: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    return all(context.get(key) == value for key, value in conditions(row).items())


def select(rows: list[Mapping[str, Any]], context: Mapping[str, str]) -> Mapping[str, Any] | None:
    """The most specific row whose conditions all hold, or None when no row applies."""
    best: Mapping[str, Any] | None = None
    best_size = -1
    for row in rows:
        size = len(conditions(row))
        if matches(row, context) and size > best_size:
            best, best_size = row, size
    return best
