"""Building the action zips: what ``corefn deploy --cloud openwhisk`` does after writing the
bundle (the generator's ``build_bundle``), and what the bundle's ``build.sh`` runs again (``python -m corefn_openwhisk.build DIR``
with the vendored ``DIR/src`` on the path), from any folder.

For each ``DIR/actions/<action>/`` (its ``__main__.py`` and pinned ``requirements.txt``), the zip
``DIR/build/<action>.zip`` holds at its root:

- the action's packages, installed by pip **for the action runtime, not this machine**: the
  ``python:3.11`` kind runs ``openwhisk/action-python-v3.11``, built from ``python:3.11-bookworm``
  on x86_64 (https://github.com/apache/openwhisk-runtime-python/blob/master/core/python311Action/Dockerfile),
  so ``--platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311
  --only-binary=:all: --no-deps`` (the requirements are the lock's complete closure);
- ``src/``: the app, its local modules, corefn's core and this adapter, vendored by corefn deploy;
- the action's ``__main__.py``, which the runtime imports and whose ``main(params)`` it calls
  (https://github.com/apache/openwhisk/blob/master/docs/actions-python.md, "Packaging Python
  actions in zip files").

A ``# corefn build: botocore services kept: s3`` line in the requirements (written by the generator
when boto3 is there only for corefn's S3-compatible stores: :mod:`._deps`) leaves the other
services' API models out of ``botocore/data`` and ``boto3/data``. A missing ``src/`` or action file
is an error, never an empty zip. The installed packages are
cached per requirements hash under ``COREFN_BUILD_CACHE`` (default ``~/.cache/corefn/openwhisk``).

Size: the controller stores a zip action's code as base64 text and refuses it above 48 MB
(:func:`code_limit`, from ``facts/packaging.toml``). Every zip's encoded size is checked here; one
over the limit fails the build with the numbers, its largest packages and the remedy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from corefn.errors import ConfigurationError

PYTHON_VERSION = "3.11"
#: wheel platforms the runtime image loads (Debian 12, glibc 2.36, x86_64); the lock is checked for them
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
_SKIPPED = frozenset({"__pycache__"})
#: a fixed time for every zip entry, so the same inputs give the same zip
_EPOCH = (2020, 1, 1, 0, 0, 0)


def code_limit() -> int:
    """The action code limit in bytes (``packaging.action_code_size`` of this adapter's facts)."""
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("corefn_openwhisk.facts").joinpath("packaging.toml").read_text())
    return int(data["packaging"]["action_code_size"]["max"])


def encoded_size(size: int) -> int:
    """Bytes of the base64 text of ``size`` bytes (RFC 4648: 4 characters per 3 bytes, padded)."""
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True)
class Built:
    action: str
    path: Path
    size: int

    @property
    def encoded(self) -> int:
        return encoded_size(self.size)


def _pins(requirements: Path) -> list[str]:
    return [line.strip() for line in requirements.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _installed(pins: list[str]) -> Path:
    """A folder with ``pins`` installed for the runtime (cached by their hash)."""
    cache = Path(os.environ.get("COREFN_BUILD_CACHE") or Path.home() / ".cache" / "corefn" / "openwhisk")
    key = hashlib.sha256("\n".join([PYTHON_VERSION, *PLATFORMS, *sorted(pins)]).encode()).hexdigest()[:16]
    target = cache / key
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if pins:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
               "--abi", "cp" + PYTHON_VERSION.replace(".", ""), "--target", str(target)]  # fmt: skip
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
        done = subprocess.run([*cmd, *pins], capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise ConfigurationError(f"pip could not install the action's wheels for Python {PYTHON_VERSION} {PLATFORMS[0]}: {done.stderr.strip()[-2000:]}")
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: the action never runs them
    (target / ".complete").write_text("\n".join(pins) + "\n")
    return target


def _kept_services(requirements: Path) -> tuple[str, ...] | None:
    from corefn_openwhisk._deps import KEEP_LINE

    for line in requirements.read_text().splitlines():
        if line.startswith(KEEP_LINE):
            return tuple(s.strip() for s in line[len(KEEP_LINE) :].split(",") if s.strip())
    return None


def _left_out(inner: Path, services: tuple[str, ...] | None) -> bool:
    """An AWS service model the action does not use (``botocore/data/<service>/``)."""
    parts = inner.parts
    return services is not None and len(parts) > 3 and parts[:2] in (("botocore", "data"), ("boto3", "data")) and parts[2] not in services


def _add_tree(archive: zipfile.ZipFile, root: Path, sizes: dict[str, int], services: tuple[str, ...] | None = None) -> None:
    for item in sorted(root.rglob("*")):
        inner = item.relative_to(root)
        if not item.is_file() or _SKIPPED.intersection(inner.parts) or item.suffix in (".pyc", ".pyo") or inner.name == ".complete":
            continue
        if _left_out(inner, services):
            continue
        info = zipfile.ZipInfo(inner.as_posix(), _EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (item.stat().st_mode & 0o777 | 0o100000) << 16
        data = item.read_bytes()
        archive.writestr(info, data)
        top = inner.parts[0].split("-")[0] if len(inner.parts) > 1 else inner.name
        sizes[top] = sizes.get(top, 0) + len(data)


def build_action(folder: Path, action: str) -> tuple[Built, dict[str, int]]:
    src, here = folder / "src", folder / "actions" / action
    for needed in (here / "__main__.py", here / "requirements.txt"):
        if not needed.is_file():
            raise ConfigurationError(f"action {action!r}: {needed} is missing; regenerate with corefn deploy")
    out = folder / "build" / f"{action}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    tmp = out.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_tree(archive, _installed(_pins(here / "requirements.txt")), sizes, _kept_services(here / "requirements.txt"))
        _add_tree(archive, src, sizes)
        info = zipfile.ZipInfo("__main__.py", _EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        archive.writestr(info, (here / "__main__.py").read_bytes())
    tmp.replace(out)
    return Built(action, out, out.stat().st_size), sizes


def manifest_actions(folder: Path) -> list[str]:
    """The actions the manifest deploys: its ``function: "build/<action>.zip"`` lines (the
    generator's emitter writes exactly that form), so a folder left from an older generation
    builds nothing stale."""
    import re

    manifest = folder / "manifest.yaml"
    if not manifest.is_file():
        raise ConfigurationError(f"{manifest} is missing: regenerate with corefn deploy")
    return sorted(set(re.findall(r'^\s+function: "build/([^"/]+)\.zip"$', manifest.read_text(), flags=re.M)))


def build(folder: Path) -> list[Built]:
    """Every action's zip under ``folder/build/``; a ConfigurationError names every action over
    the code limit (all are built first, so one run reports them all)."""
    folder = folder.resolve()
    if not (folder / "src" / "corefn").is_dir() or not (folder / "src" / "corefn_openwhisk").is_dir():
        raise ConfigurationError(f"{folder / 'src'} holds no vendored corefn: run corefn deploy APP --cloud openwhisk (without --no-bundle) to write it")
    actions = manifest_actions(folder)
    if not actions:
        raise ConfigurationError(f"{folder / 'manifest.yaml'} names no action: regenerate with corefn deploy")
    shutil.rmtree(folder / "build", ignore_errors=True)  # no zip of an action the manifest no longer has
    limit = code_limit()
    built: list[Built] = []
    over: list[str] = []
    for action in actions:
        done, sizes = build_action(folder, action)
        built.append(done)
        if done.encoded > limit:
            largest = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:4])
            over.append(
                f"action {action!r}: {done.size:,} bytes zipped, {done.encoded:,} bytes base64-encoded as the controller stores it, "
                f"over OpenWhisk's {limit:,}-byte (48 MB) action code limit by {done.encoded - limit:,} (largest, unzipped: {largest})"
            )
    if over:
        raise ConfigurationError(
            "; ".join(over) + ". Remedy: give the handler fewer dependencies (uses=, imports inside the handler), "
            "or deploy it as a Docker action (`docker: <image>` in the manifest: an image FROM openwhisk/action-python-v3.11 "
            "with the packages installed) whose zip then holds the code only"
        )
    return built


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m corefn_openwhisk.build DEPLOY_FOLDER", file=sys.stderr)
        return 2
    try:
        for done in build(Path(argv[0])):
            print(f"built {done.path} ({done.size:,} bytes, {done.encoded:,} base64)")
    except ConfigurationError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
