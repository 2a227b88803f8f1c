"""Cold start is this field's first complaint: importing corefn, declaring an app with sinks and
importing an adapter's entry point must not load any cloud SDK."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "azure", "google", "flask", "functions_framework", "ibmcloudant", "kafka",
         "redis", "sqlalchemy", "PIL", "uvicorn", "watchdog", "asyncio", "importlib.metadata",
         "dataclasses", "inspect")  # dataclasses (which imports inspect, ast, dis) costs more than corefn


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    """Heavy modules loaded beyond what the bare interpreter already loads (installed namespace
    packages such as ``google`` are imported at start-up by their .pth files)."""
    baseline = _modules_after("pass")
    return sorted(m for m in modules - baseline if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_corefn_and_declare_sinks_loads_no_sdk() -> None:
    loaded = _modules_after(
        "import corefn\n"
        "app = corefn.App('x')\n"
        "app.object_store('a'); app.table('t'); app.cache('c'); app.sql('s'); app.publisher('p')\n"
        "@app.http('GET', '/x')\n"
        "def h(req): return 'ok'\n"
    )
    assert _heavy(loaded) == []


def _installed_adapter_modules() -> list[str]:
    from importlib.metadata import entry_points

    return sorted({ep.value.split(":")[0] for ep in entry_points(group="corefn.adapters")})


@pytest.mark.parametrize("module", _installed_adapter_modules())
def test_import_an_adapter_loads_no_sdk(module: str) -> None:
    assert _heavy(_modules_after(f"import corefn, {module}")) == []
