"""What one OpenWhisk action needs from PyPI: only its handlers' imports and its sinks' clients.

Every action of an app ships as its own zip, and OpenWhisk refuses a zip over 48 MB once
base64-encoded (:mod:`corefn_openwhisk.build`). Giving every action every package (botocore,
SQLAlchemy, Pillow...) made the IoT site's actions 57.5 MiB as sent. So each action gets:

- the third-party distributions imported by the app module's **top level** (they load in every
  action) and **inside its handlers' functions** (``import imaging`` inside the photo handler
  loads Pillow there only), following local modules through all their imports;
- the client of each sink family its handlers use (``uses=``, else every sink):
  :data:`FAMILY_PACKAGES`, the backends Apache OpenWhisk deployments reach (S3-compatible object
  stores, Cloudant/CouchDB tables, Kafka publishers, SQL, Redis);
- ``kafka-python`` for a queue or stream handler (it republishes or dead-letters failed
  messages itself: :mod:`corefn_openwhisk.queue`, :mod:`corefn_openwhisk.stream`) and PyJWT for
  routes with ``auth=``;
- the app's own ``requirements.txt`` lines, except those for a package the app imports or a sink
  client brings, which follow the rules above (a line for a package nothing imports, a plugin or
  a driver, goes to every action).

botocore ships the API models of ~450 AWS services (~14 MB of the zip); corefn's S3-compatible
stores use one, S3. When boto3 is there only for them (the handlers' code does not import boto3
or botocore itself), :func:`botocore_services` says so and the build keeps only S3's model.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

#: sink family → what its OpenWhisk backends import (``cos://``/``s3compat://``: boto3;
#: ``cloudant://``: ibmcloudant; ``kafka://``: kafka-python; SQL; Redis)
FAMILY_PACKAGES: dict[str, tuple[str, ...]] = {
    "object": ("boto3",),
    "table": ("ibmcloudant",),
    "publisher": ("kafka-python",),
    "sql": ("SQLAlchemy", "psycopg[binary]"),
    "cache": ("redis",),
}
QUEUE_PACKAGES = ("kafka-python",)


def _canonical(name: str) -> str:
    from corefn.deploy_lock import canonical

    return canonical(name.split("[")[0].split(">")[0].split("=")[0].split("<")[0].split("~")[0].strip())


def _names(nodes: Iterable[ast.AST]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _top_level(tree: ast.Module) -> set[str]:
    """Imports executed when the module loads: everything outside function bodies."""
    todo: list[ast.AST] = list(tree.body)
    kept: list[ast.AST] = []
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        kept.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return _names(kept)


def _in_function(tree: ast.Module, name: str) -> set[str] | None:
    """Imports inside the module-level function ``name``; None when it is not found there."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return _names(ast.walk(node))
    return None


def distributions(app_file: Path, specs: Iterable[HandlerSpec]) -> set[str]:
    """Canonical names of the third-party distributions the handlers' code can import."""
    import importlib.util
    from importlib.metadata import packages_distributions

    from corefn.bundle import _is_third_party, scan_imports

    tree = ast.parse(app_file.read_bytes(), str(app_file))
    wanted = _top_level(tree)
    for spec in specs:
        inside = _in_function(tree, getattr(spec.handler, "__name__", ""))
        wanted |= inside if inside is not None else _names(ast.walk(tree))  # not found: be generous
    dists = packages_distributions()
    found: set[str] = set()
    for name in sorted(wanted):
        if name in ("corefn", "__future__") or name.startswith("corefn_"):
            continue
        try:
            module = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if module is None or module.origin in ("built-in", "frozen"):
            continue
        where = module.origin or next(iter(module.submodule_search_locations or []), "")
        if not where or name in sys.stdlib_module_names:
            continue
        if _is_third_party(where):
            found.update(_canonical(d) for d in dists.get(name, [name]))
        else:  # a local module: everything it imports, anywhere
            local = Path(next(iter(module.submodule_search_locations))) if module.submodule_search_locations else Path(where)
            found.update(_canonical(d) for d in scan_imports(local).distributions)
    return found


def action_requirements(app: App, app_ref: str, specs: list[HandlerSpec]) -> list[str]:
    """The unpinned requirement lines of the action serving ``specs``."""
    from corefn.auth import jwt_extra
    from corefn.bundle import app_path, scan_imports
    from corefn.loader import app_requirements
    from corefn.policy import used_sinks

    try:
        app_file: Path | None = app_path(app_ref)
    except Exception:  # an app built in memory (tests): nothing to scan
        app_file = None
    imported = distributions(app_file, specs) if app_file is not None and app_file.is_file() else set()
    anywhere = {_canonical(d) for d in scan_imports(app_file).distributions} if app_file is not None and app_file.is_file() else set()
    wanted: list[str] = []
    families = {sink.family for spec in specs for sink in used_sinks(app, spec)}
    for family in sorted(families):
        wanted += FAMILY_PACKAGES.get(family, ())
    if any(spec.kind in ("queue", "stream", "nosql") for spec in specs):
        wanted += QUEUE_PACKAGES
    if jwt_extra(specs):
        wanted.append("PyJWT[crypto]")
    every_client = {_canonical(p) for packages in FAMILY_PACKAGES.values() for p in packages} | {"psycopg-binary"}
    for line in app_requirements(app_ref):
        name = _canonical(line)
        if name in anywhere or name in every_client:
            if name in imported:
                wanted.append(line)
        else:
            wanted.append(line)
    wanted += sorted(imported - {_canonical(w) for w in wanted})
    seen: set[str] = set()
    unique = []
    for line in wanted:
        key = _canonical(line)
        if key not in seen:
            seen.add(key)
            unique.append(line)
    return unique


#: the services whose API models corefn's own backends load (``cos://`` and ``s3compat://``: S3)
BACKEND_SERVICES = ("s3",)
KEEP_LINE = "# corefn build: botocore services kept:"


def botocore_services(app: App, app_ref: str, specs: list[HandlerSpec], requirements: list[str]) -> tuple[str, ...] | None:
    """The botocore/boto3 service models the action needs, or None for all (or no boto3)."""
    from corefn.bundle import app_path

    if "boto3" not in {_canonical(r) for r in requirements}:
        return None
    try:
        app_file = app_path(app_ref)
    except Exception:
        return None
    if not app_file.is_file() or distributions(app_file, specs) & {"boto3", "botocore", "s3transfer"}:
        return None  # the app's own code uses boto3: every model stays
    return BACKEND_SERVICES
