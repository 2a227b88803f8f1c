"""Cold start: ``import corefn_azure`` (and reading JSON with it) must not import ``azure.*``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
import corefn_azure
after_import = sorted(m for m in sys.modules if m == "azure" or m.startswith("azure."))
from corefn.adapters import parse
parse({"Schedule": {}, "ScheduleStatus": {"Next": "2024-01-01T00:00:00Z"}, "IsPastDue": False}, cloud="azure")
parse({"Data": {"msg": "x"}, "Metadata": {"DequeueCount": 1, "PopReceipt": "p"}}, cloud="azure")
parse(["not", "azure"], cloud="azure")
after_parse = sorted(m for m in sys.modules if m == "azure" or m.startswith("azure."))
print(json.dumps([after_import, after_parse]))
"""


def test_import_and_json_parsing_import_no_azure_module() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    after_import, after_parse = json.loads(done.stdout.strip().splitlines()[-1])
    assert after_import == [] and after_parse == []


def test_runtime_module_imports_no_azure_module_either() -> None:
    code = "import sys, corefn_azure.runtime, corefn_azure.generator; print(any(m.startswith('azure') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
