"""The cloud-neutral bundler: local modules found from the imports (inside functions too, through
packages, across folders the app adds to ``sys.path``), ``include=`` data, the vendored core with
one cloud's entry points, and pins from a lock's closure."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from corefn.bundle import scan_imports, vendored_files
from corefn.deploy_lock import Lock, requirement_key
from corefn.errors import ConfigurationError
from corefn.loader import load_app

APP = '''
import sys
from pathlib import Path
sys.path.append(str(Path(__file__).resolve().parent.parent / "shared"))
import helpers
from corefn import App
app = App("bundled", include=["data", "config.toml"])
store = app.object_store("out")

@app.queue("jobs", uses=[store])
def work(message):
    import lazy_mod            # imported inside the handler: still found
    from pkg.sub import thing  # a local package: copied whole
    import json, yaml          # stdlib skipped; yaml is third-party (a requirement)
    return lazy_mod.x + thing
'''


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    app_dir = tmp_path / "myapp"
    (app_dir / "pkg").mkdir(parents=True)
    (app_dir / "data").mkdir()
    (tmp_path / "shared").mkdir()
    (app_dir / "app.py").write_text(APP)
    (app_dir / "lazy_mod.py").write_text("import helpers\nx = 1\n")
    (app_dir / "pkg" / "__init__.py").write_text("")
    (app_dir / "pkg" / "sub.py").write_text("from . import other\nthing = 2\n")
    (app_dir / "pkg" / "other.py").write_text("")
    (app_dir / "data" / "fonts.txt").write_text("font")
    (app_dir / "config.toml").write_text("a = 1\n")
    (tmp_path / "shared" / "helpers.py").write_text("try:\n    import uncommon_optional_dependency_xyz\nexcept ImportError:\n    pass\n")
    before = list(sys.path)
    yield app_dir
    sys.path[:] = before
    for name in ("helpers", "lazy_mod", "pkg", "pkg.sub", "pkg.other", "corefn_user_myapp_app"):
        sys.modules.pop(name, None)


def test_local_modules_are_found_from_imports_across_folders(project: Path) -> None:
    ref = f"{project / 'app.py'}:app"
    app = load_app(ref)
    scan = scan_imports(project / "app.py")
    assert set(scan.local) == {"helpers", "lazy_mod", "pkg"}
    assert scan.local["helpers"] == (project.parent / "shared" / "helpers.py").resolve()
    assert "PyYAML" in scan.distributions and "uncommon_optional_dependency_xyz" in scan.missing
    files, warnings = vendored_files(app, ref, "aws")
    for rel in ("app.py", "helpers.py", "lazy_mod.py", "pkg/__init__.py", "pkg/sub.py", "pkg/other.py",
                "data/fonts.txt", "config.toml", "corefn/__init__.py", "corefn_aws/runtime.py"):  # fmt: skip
        assert rel in files, rel
    assert not any(rel.startswith(("corefn_azure", "corefn_gcp", "corefn_openwhisk", "corefn/cli/", "corefn/local/")) for rel in files)
    assert any("uncommon_optional_dependency_xyz" in w for w in warnings)
    (entry,) = [rel for rel in files if rel.endswith("entry_points.txt")]
    text = str(files[entry])
    assert "aws = corefn_aws:adapter" in text and "corefn_gcp" not in text and "secretsmanager" in text


def test_a_missing_include_is_an_error(project: Path) -> None:
    (project / "config.toml").unlink()
    ref = f"{project / 'app.py'}:app"
    with pytest.raises(ConfigurationError, match="config.toml"):
        vendored_files(load_app(ref), ref, "aws")


LOCK = """# test lock
# architectures: arm64
boto3==1.0.0
    # for: boto3
botocore==1.0.1
    # for: boto3
psycopg==3.0.0
    # for: psycopg[binary]
psycopg-binary==3.0.0
    # for: psycopg[binary]
typing_extensions==4.0.0
    # for: SQLAlchemy, psycopg[binary]
SQLAlchemy==2.0.0
    # for: SQLAlchemy
"""


def test_pins_are_the_closure_of_what_the_bundle_asks_for(tmp_path: Path) -> None:
    path = tmp_path / "aws-python3.12.txt"
    path.write_text(LOCK)
    lock = Lock(path)
    assert lock.pinned(["boto3>=1.34"]) == ["boto3==1.0.0", "botocore==1.0.1"]
    assert lock.pinned(["psycopg[binary]>=3.1", "SQLAlchemy"]) == [
        "psycopg==3.0.0", "psycopg-binary==3.0.0", "SQLAlchemy==2.0.0", "typing_extensions==4.0.0"]  # fmt: skip
    with pytest.raises(ConfigurationError, match="refresh.py"):
        lock.pinned(["requests>=2"])
    lock.check_architecture("arm64")
    with pytest.raises(ConfigurationError, match="x86_64"):
        lock.check_architecture("x86_64")


def test_requirement_keys_are_normalised() -> None:
    assert requirement_key("Psycopg[Binary]>=3.1") == "psycopg[binary]"
    assert requirement_key("typing_extensions") == "typing-extensions"


def test_a_runtime_without_a_lock_names_the_refresh_command(tmp_path: Path) -> None:
    from corefn.deploy_lock import lock_for

    with pytest.raises(ConfigurationError, match="refresh.py aws-python3.99"):
        lock_for("aws", "python3.99", tmp_path)


def test_each_checked_in_lock_matches_its_refresh_inputs() -> None:
    """A changed input list in refresh.py without a rerun would leave the lock stale."""
    import runpy

    locks = Path(__file__).resolve().parents[2] / "deploy" / "locks"
    script = runpy.run_path(str(locks / "refresh.py"))
    for name, (python, platforms, inputs) in script["LOCKS"].items():
        lock = Lock(locks / f"{name}.txt")
        assert lock.architectures == tuple(script["ARCHITECTURES"][name])
        assert f"# inputs: {', '.join(inputs)}" in lock.header, f"rerun: python deploy/locks/refresh.py {name}"
        assert f"Python {python}, {', '.join(platforms)}" in lock.header[0]
        assert {requirement_key(i) for i in inputs} == lock.direct


def test_a_namespace_package_brings_only_the_distributions_imported(tmp_path: Path) -> None:
    """``azure`` is one import name shared by every azure-* distribution: importing
    ``azure.storage.blob`` (here, and ``azure.data.tables`` in a second module) asks for those
    two, not for every azure-* distribution installed."""
    (tmp_path / "app.py").write_text("import helper\nfrom azure.storage.blob import BlobClient\n")
    (tmp_path / "helper.py").write_text("def f():\n    import azure.data.tables\n")
    sys.path.insert(0, str(tmp_path))
    try:
        scan = scan_imports(tmp_path / "app.py")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("helper", None)
    azure = {d for d in scan.distributions if d.startswith("azure")}
    assert azure == {"azure-storage-blob", "azure-data-tables"}
