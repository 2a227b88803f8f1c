"""Finding the user's App from ``module:attribute`` or ``path/to/file.py:attribute``.

The same reference is used everywhere: the CLI, generated entry points and the ``COREFN_APP``
environment variable on the clouds. ``attribute`` defaults to ``app``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from corefn._env import getenv
from corefn.errors import AppLoadError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from corefn.app import App

_cache: dict[str, App] = {}


def split_ref(ref: str) -> tuple[str, str]:
    """``("pkg.mod" or "path/file.py", "attr")``; a Windows drive colon is not a separator."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or "/" in attr or "\\" in attr:
        return ref, "app"
    return target, attr or "app"


def load_app(ref: str | None = None) -> App:
    """Import and return the App named by ``ref`` (or ``COREFN_APP``), once per process."""
    ref = ref or getenv("COREFN_APP")
    if not ref:
        raise AppLoadError("no app given: pass MODULE:ATTRIBUTE or set COREFN_APP")
    cached = _cache.get(ref)
    if cached is not None:
        return cached
    target, attr = split_ref(ref)
    try:
        if target.endswith(".py") or os.sep in target or "/" in target:
            from pathlib import Path

            module = _import_file(Path(target))
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(target)
    except AppLoadError:
        raise
    except ImportError as exc:
        raise AppLoadError(f"cannot import {target!r} for app {ref!r}: {exc}") from exc
    from corefn.app import App

    app = getattr(module, attr, None)
    if not isinstance(app, App):
        found = type(app).__name__ if app is not None else "nothing"
        raise AppLoadError(f"{target}:{attr} is {found}, not a corefn App")
    _cold_start_checks(app)
    _cache[ref] = app
    return app


def _cold_start_checks(app: App) -> None:
    """On a cloud: fail now, naming the setting, if a sink this function uses has no URL (never
    a silent local default), and fetch the secrets its settings refer to (once per process)."""
    from corefn.sinks import check_configured, running_cloud

    if running_cloud() is None:
        return
    from corefn.secrets import resolve_environment

    check_configured(app, os.environ.get("COREFN_HANDLER") or None)
    resolve_environment([app.api_key_env])


def _import_file(path: Path) -> object:
    if not path.is_file():
        raise AppLoadError(f"no such file: {path}")
    path = path.resolve()
    name = "corefn_user_" + "_".join(path.with_suffix("").parts[-2:]).replace("-", "_").replace(".", "_")
    if name in sys.modules:
        return sys.modules[name]
    # the file's folder goes on sys.path so the app can import its sibling modules
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def app_requirements(ref: str) -> list[str]:
    """The app's own dependencies: the lines of a ``requirements.txt`` beside the app's file (or
    package), for the deploy generators to add to what each cloud installs. Comments and blank
    lines are dropped; nothing is imported."""
    import importlib.util
    from pathlib import Path

    target, _ = split_ref(ref)
    if target.endswith(".py") or "/" in target or os.sep in target:
        folder = Path(target).parent
    else:
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            return []
        folder = Path(spec.origin).parent
    path = folder / "requirements.txt"
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def bundled_ref(ref: str) -> str:
    """The app reference inside a deployment bundle, where the app's folder is the root: a file
    reference ``path/to/app.py:attr`` becomes the module ``app:attr``; a module reference stays."""
    target, attr = split_ref(ref)
    if target.endswith(".py"):
        target = target.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py")
    return f"{target}:{attr}"
