"""No SDK is imported before a sink is first used: not by ``import corefn``, not by declaring
sinks, not by importing the backend modules (checked in fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "s3transfer", "redis", "sqlalchemy", "psycopg", "azure", "google", "importlib.metadata")

DECLARE = """
import corefn
from corefn import App
app = App("cold")
app.object_store("originals"); app.table("devices", sort_key="at"); app.cache("sessions")
app.sql("reports"); app.publisher("alerts", target="topic")
"""

IMPORT_BACKENDS = DECLARE + """
import corefn_aws.sinks, corefn_aws.sinks.s3, corefn_aws.sinks.dynamodb, corefn_aws.sinks.sqs
import corefn_aws.sinks.sns, corefn_aws.sinks.kinesis
import corefn.sinks.files, corefn.sinks.sqlite, corefn.sinks.memory, corefn.sinks.rediscache
import corefn.sinks.sqlalchemy_sql
from corefn.specs import SinkSpec
corefn_aws.sinks.s3.open_backend(SinkSpec("object", "x"), "s3://bucket")
corefn_aws.sinks.dynamodb.open_backend(SinkSpec("table", "x"), "dynamodb://t")
corefn_aws.sinks.sqs.open_backend(SinkSpec("publisher", "x"), "sqs://q")
corefn.sinks.rediscache.open_backend(SinkSpec("cache", "x"), "redis://127.0.0.1:1/0")
corefn.sinks.sqlalchemy_sql.open_backend(SinkSpec("sql", "x"), "postgresql://u@127.0.0.1:1/db")
"""


def loaded_modules(code: str) -> list[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    ["import corefn", DECLARE, IMPORT_BACKENDS],
    ids=["import-corefn", "declare-sinks", "import-and-open-backends"],
)
def test_no_sdk_before_first_use(code: str) -> None:
    baseline = set(loaded_modules("pass"))  # namespace packages (google) that .pth files load at start-up
    new = set(loaded_modules(code)) - baseline
    assert sorted(m for m in new if any(m == h or m.startswith(h + ".") for h in HEAVY)) == []


def test_first_use_imports_the_sdk() -> None:
    """The probe can fail: the same check sees boto3 once an S3 sink is used."""
    code = IMPORT_BACKENDS + "\ncorefn_aws.sinks.s3.open_backend(SinkSpec('object', 'x'), 's3://bucket').client"
    assert "boto3" in loaded_modules(code)
