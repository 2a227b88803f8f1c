"""Importing the adapter and its runtime loads neither the cloudevents SDK nor uvicorn nor any
HTTP client: a Knative Service scaled to zero pays for its imports on every cold start."""

from __future__ import annotations

import json
import subprocess
import sys


def test_imports_stay_light() -> None:
    code = (
        "import sys, json, corefn_knative, corefn_knative.runtime, corefn_knative.sinks.broker; "
        "from corefn.adapters import parse; "
        "parse({'specversion': '1.0', 'id': '1', 'source': '/apis/v1/namespaces/d/pingsources/p', "
        "'type': 'dev.knative.sources.ping', 'time': '2026-01-01T00:00:00Z'}, cloud='knative'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('cloudevents', 'uvicorn', 'httpx', 'urllib3', 'requests', 'starlette', 'yaml'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
