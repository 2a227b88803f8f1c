"""Cold start is this field's first complaint: importing corefn, declaring an app with sinks and
importing an adapter's entry point must not load any cloud SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


#: what the Lambda path does without (issue 25): ``typing`` imports ``re``, which imports ``enum``
#: (~5 ms of a cold start together, more than corefn's own modules); ``base64`` and ``pathlib``
#: import ``re`` too; ``threading`` and ``uuid`` are a few ms more
LAMBDA_HEAVY = ("typing", "re", "enum", "base64", "pathlib", "threading", "uuid", "json", *HEAVY)

ROOT = Path(__file__).resolve().parents[2]
EVENT = json.loads((ROOT / "tests" / "events" / "aws" / "http-apigw-v2.json").read_text())


def _lambda_modules(tmp_path: Path, route: str, answer: bool = True) -> set[str]:
    """The modules a fresh interpreter holds after importing the Lambda entry point (and, with
    ``answer``, answering one HTTP API 2.0 event on ``route``), beyond the bare interpreter's.
    ``-S`` keeps site-packages' start-up hooks (an editable install's finder imports ``re``
    through pathlib) out of the figure: what is left is corefn's doing."""
    (tmp_path / "lambda_app.py").write_text(
        "from corefn import App\napp = App('cold')\n"
        f"@app.post({route!r})\ndef hello(req):\n    return {{'message': 'hello'}}\n"
    )
    event = {**EVENT, "requestContext": {**EVENT["requestContext"], "stage": "$default"}}
    code = (
        "import sys\nbefore = set(sys.modules)\nfrom corefn_aws.runtime import handler\n"
        + (f"assert handler({event!r}, None)['statusCode'] == 200\n" if answer else "")
        + "print(sorted(set(sys.modules) - before))"
    )
    env = {**os.environ, "COREFN_APP": "lambda_app:app",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), str(ROOT / "adapters" / "aws")])}  # fmt: skip
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return set(eval(done.stdout.strip().splitlines()[-1]))  # a printed list of str


def _among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in names))


def test_the_lambda_entry_point_imports_no_typing_re_or_enum(tmp_path: Path) -> None:
    assert _among(_lambda_modules(tmp_path, "/my/path", answer=False), LAMBDA_HEAVY) == []


def test_answering_a_static_route_on_lambda_adds_only_json(tmp_path: Path) -> None:
    """The answer's JSON encoder is the one heavy module the first answer needs (``json`` imports
    ``re``, and so ``enum``, for its decoder); a parameterised route needs ``re`` too, which also
    shows that the probe sees what it looks for."""
    static = _lambda_modules(tmp_path, "/my/path")
    assert _among(static, tuple(h for h in LAMBDA_HEAVY if h not in ("json", "re", "enum"))) == []
    assert "json" in static
    parameterised = _lambda_modules(tmp_path, "/my/{item}")
    assert "re" in parameterised and "typing" not in parameterised
