"""``import corefn_gcp`` (and the runtime glue main.py imports) must load no Google SDK, no Flask,
no functions-framework and no CloudEvents SDK: the function pays for them only when it uses them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("google.cloud", "google.events", "google.protobuf", "google.api_core", "flask", "werkzeug",
         "functions_framework", "cloudevents", "grpc")  # fmt: skip


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("code", ["import corefn_gcp", "import corefn_gcp.runtime", "from corefn.adapters import get_adapter; get_adapter('gcp')"])
def test_importing_the_adapter_loads_no_sdk(code: str) -> None:
    baseline = _loaded_after("pass")  # namespace packages installed .pth files import at start-up
    heavy = sorted(m for m in _loaded_after(code) - baseline if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_reading_a_pubsub_event_loads_no_sdk() -> None:
    code = (
        "import json, pathlib\n"
        "from corefn.adapters import parse\n"
        "parse(json.loads(pathlib.Path('tests/events/gcp/topic-pubsub-cloudevent.json').read_text()), 'gcp')\n"
    )
    baseline = _loaded_after("pass")
    heavy = sorted(m for m in _loaded_after(code) - baseline if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
