"""Self-contained deployment bundles: what a provider's own tool deploys as it is, with nothing
fetched from anywhere but PyPI.

A bundle holds:

- the app's module and **every local module it imports**, found by reading the imports of the
  app and of each local module in turn (``ast``: imports inside functions count, nothing is
  executed) and locating each on the ``sys.path`` the loaded app set up (so the IoT site's
  ``import imaging`` from the sibling example folder is found as Python would find it);
  third-party imports become requirements, the standard library is skipped;
- the files and folders of ``App(include=[...])`` (data the analysis cannot see), at the same
  place relative to the app;
- corefn's core and only the target cloud's adapter, as source, with a ``corefn-<v>.dist-info``
  whose ``entry_points.txt`` lists that cloud's adapter, sink schemes and secret stores only (the
  registries read entry points; no other cloud's code or SDK is in the bundle). The local runtime
  and the CLI stay out: a cloud never runs them;
- ``requirements.txt``: third-party packages only, every one pinned from the checked-in lock of
  the cloud's runtime (:mod:`corefn.deploy_lock`).

Cloud-neutral: an adapter says where the code goes in its project (``bundle_root``) and which
runtime it targets; everything else is here.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.app import App

#: core subpackages a cloud never runs (the local runtime, the CLI): kept out of bundles
CORE_EXCLUDED = ("cli", "local")
#: sink kind → the corefn extra its backends need
SINK_EXTRAS: dict[str, str] = {"sql": "sql", "cache": "redis"}
_SKIPPED = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".corefn", ".venv", "node_modules"})


def app_path(app_ref: str) -> Path:
    """The file of the app module named by ``app_ref`` (a file reference or an importable module)."""
    from corefn.loader import split_ref

    target, _ = split_ref(app_ref)
    if target.endswith(".py") or "/" in target or os.sep in target:
        return Path(target).resolve()
    spec = importlib.util.find_spec(target)
    if spec is None or spec.origin is None:
        raise ConfigurationError(f"cannot find the module of app {app_ref!r}")
    return Path(spec.origin).resolve()


def _imports(path: Path) -> set[str]:
    """Top-level names a module imports (absolute imports only: relative ones stay inside a
    package, which is copied whole)."""
    return {name.split(".")[0] for name in _dotted_imports(path)}


def _dotted_imports(path: Path) -> set[str]:
    """The full module names a module imports (``azure.storage.blob``)."""
    tree = ast.parse(path.read_bytes(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _namespace_distributions(top: str, candidates: list[str], dotted: set[str]) -> set[str]:
    """The distributions of a namespace package (``azure``: one name, dozens of distributions)
    that provide the modules actually imported, found from each distribution's file list; all
    of them when the files say nothing (a distribution without a RECORD)."""
    from importlib.metadata import PackageNotFoundError, distribution

    wanted = {d.replace(".", "/") for d in dotted if d.split(".")[0] == top and "." in d}
    if not wanted:
        return set(candidates)
    chosen = set()
    for name in candidates:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            continue
        paths = {str(f.parent).replace("\\", "/") for f in files if f.suffix == ".py"}
        if any(w in paths or any(p.startswith(w + "/") for p in paths) for w in wanted):
            chosen.add(name)
    return chosen or set(candidates)


def _is_third_party(origin: str) -> bool:
    parts = Path(origin).parts
    return "site-packages" in parts or "dist-packages" in parts


class ImportScan:
    """The local modules (name → file or package folder) and third-party distributions an app
    imports, plus the names that could not be found (optional imports; listed as warnings)."""

    def __init__(self) -> None:
        self.local: dict[str, Path] = {}
        self.distributions: set[str] = set()
        self.missing: set[str] = set()


def scan_imports(app_file: Path) -> ImportScan:
    from importlib.metadata import packages_distributions

    scan = ImportScan()
    dists = packages_distributions()
    todo: list[Path] = [app_file]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            for name in sorted(_imports(file) - seen):
                seen.add(name)
                if name in sys.stdlib_module_names or name == "corefn" or name.startswith("corefn_") or name == "__future__":
                    continue
                try:
                    spec = importlib.util.find_spec(name)
                except (ImportError, ValueError):
                    spec = None
                if spec is None:
                    scan.missing.add(name)
                elif spec.origin in (None, "built-in", "frozen") and not spec.submodule_search_locations:
                    continue
                elif _is_third_party(spec.origin or next(iter(spec.submodule_search_locations or []), "")):
                    candidates = dists.get(name, [name])
                    if len(candidates) > 1:  # a namespace package: look again in the next file
                        candidates = sorted(_namespace_distributions(name, candidates, _dotted_imports(file)))
                        seen.discard(name)
                    scan.distributions.update(candidates)
                else:
                    where = Path(next(iter(spec.submodule_search_locations))) if spec.submodule_search_locations else Path(spec.origin or "")
                    if where.resolve() != app_file.resolve():
                        scan.local[name] = where.resolve()
                        todo.append(where.resolve())
    return scan


def _copy(source: Path, files: dict[str, Path], rel: str) -> None:
    if source.is_dir():
        for item in sorted(source.rglob("*")):
            inner = item.relative_to(source)
            if item.is_file() and not _SKIPPED.intersection(inner.parts) and item.suffix not in (".pyc", ".pyo"):
                files[f"{rel}/{inner.as_posix()}"] = item
    elif source.is_file():
        files[rel] = source
    else:
        raise ConfigurationError(f"include {rel!r}: no such file or folder ({source})")


def _dist_info(cloud: str, adapter_package: str) -> dict[str, str]:
    """A minimal installed-distribution record for the vendored corefn: ``importlib.metadata``
    finds entry points through it (https://packaging.python.org/en/latest/specifications/entry-points/)."""
    from importlib.metadata import entry_points

    from corefn._version import __version__

    kept: dict[str, list[str]] = {}
    for group in ("corefn.adapters", "corefn.sinks", "corefn.secrets"):
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            module = ep.value.split(":")[0]
            top = module.split(".")[0]
            excluded = top == "corefn" and module.split(".")[1:2] and module.split(".")[1] in CORE_EXCLUDED
            if (top == "corefn" and not excluded) or top == adapter_package:
                kept.setdefault(group, []).append(f"{ep.name} = {ep.value}")
    entry_text = "".join(f"[{g}]\n" + "".join(f"{line}\n" for line in lines) + "\n" for g, lines in kept.items())
    folder = f"corefn-{__version__}.dist-info"
    return {
        f"{folder}/METADATA": f"Metadata-Version: 2.1\nName: corefn\nVersion: {__version__}\nSummary: corefn core and the {cloud} adapter, vendored by corefn deploy\n",
        f"{folder}/entry_points.txt": entry_text,
        f"{folder}/INSTALLER": "corefn deploy\n",
    }


def vendored_files(app: App, app_ref: str, cloud: str) -> tuple[dict[str, Path | str], list[str]]:
    """Bundle path → source file (or text) for the app, its local modules, ``include=``, corefn's
    core and ``cloud``'s adapter; and warnings (imports that could not be found)."""
    import corefn
    from corefn.adapters import get_adapter

    app_file = app_path(app_ref)
    from corefn.loader import split_ref

    target, _ = split_ref(app_ref)
    files: dict[str, Path] = {}
    if target.endswith(".py") or "/" in target or os.sep in target:
        files[app_file.name] = app_file
        base = app_file.parent
    else:  # a module reference: its top-level package (or module) keeps its dotted path
        top = target.split(".")[0]
        spec = importlib.util.find_spec(top)
        assert spec is not None
        if spec.submodule_search_locations:
            _copy(Path(next(iter(spec.submodule_search_locations))), files, top)
            base = app_file.parent
        else:
            files[f"{top}.py"] = app_file
            base = app_file.parent
    scan = scan_imports(app_file)
    for name, where in sorted(scan.local.items()):
        _copy(where, files, name if where.is_dir() else f"{name}.py")
    for rel in app.include:
        _copy(base / rel, files, rel)
    core = Path(corefn.__file__).parent
    for item in sorted(core.rglob("*")):
        inner = item.relative_to(core)
        if item.is_file() and inner.parts[0] not in CORE_EXCLUDED and not _SKIPPED.intersection(inner.parts) and item.suffix not in (".pyc", ".pyo"):
            files[f"corefn/{inner.as_posix()}"] = item
    package = get_adapter(cloud).package
    module = sys.modules[package]
    assert module.__file__ is not None
    _copy(Path(module.__file__).parent, files, package)
    out: dict[str, Path | str] = dict(files)
    out.update(_dist_info(cloud, package))
    warnings = [f"import {name!r} was not found on this machine: the bundle does not carry it (an optional import?)" for name in sorted(scan.missing)]
    return out, warnings


def requirement_names(app: App, app_ref: str, cloud: str) -> list[str]:
    """What the bundle needs from PyPI, unpinned: the app's own ``requirements.txt``, the
    distributions its modules import, the cloud's extra of corefn, the extras its sink kinds need."""
    from importlib.metadata import PackageNotFoundError, requires

    from corefn.loader import app_requirements

    wanted = list(app_requirements(app_ref))
    try:
        source = app_path(app_ref)
    except (ConfigurationError, ImportError, ValueError):
        source = None  # an app built in memory (tests): nothing to scan, and nothing to bundle
    if source is not None and source.is_file():
        wanted += sorted(scan_imports(source).distributions)
    extras = {cloud} | {SINK_EXTRAS[s.kind] for s in app.sinks if s.kind in SINK_EXTRAS}
    from corefn.auth import jwt_extra

    if jwt_extra(app.handlers):  # routes with auth= verify tokens in the function: PyJWT ships
        extras.add("jwt")
    try:
        declared = requires("corefn") or []
    except PackageNotFoundError:
        declared = []
    for line in declared:
        req, _, marker = line.partition(";")
        extra = marker.split("extra", 1)[-1].strip(" =\"'") if "extra" in marker else None
        if extra in extras and not req.strip().startswith("corefn"):
            wanted.append(req.strip())
    return wanted


def write_vendored(files: dict[str, Path | str], root: Path) -> list[Path]:
    written = []
    for rel, source in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, path)
        else:
            path.write_text(source)
        written.append(path)
    return written
