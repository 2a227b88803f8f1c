"""``corefn policy``: each handler's retry policy as the local runtime and each cloud read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from corefn.cli import main


def policy(*args: str) -> Any:
    return CliRunner().invoke(main, ["policy", *args], catch_exceptions=False)


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COREFN_TEST_OUT", str(tmp_path))
    return tmp_path


def test_policy_json_per_handler_and_cloud(out: Path) -> None:
    done = policy("tests.reliability.app:app", "--json")
    assert done.exit_code == 0, done.output
    table = json.loads(done.output)
    pay, work = table["pay"], table["work"]
    assert pay["policy"]["delivery"] == "queue" and pay["policy"]["idempotency_records"] == "idempotency"
    assert pay["clouds"]["local"]["settings"]["max_attempts"] == 5
    assert pay["clouds"]["aws"]["settings"]["maxReceiveCount"] == 5
    assert work["clouds"]["aws"]["settings"]["maxReceiveCount"] == 2 and work["clouds"]["local"]["settings"]["max_attempts"] == 2
    assert table["alert_a"]["clouds"]["aws"]["settings"]["MaximumRetryAttempts"] == 2  # Lambda's async cap: 3 attempts
    assert table["pay_http"]["policy"]["delivery"] == "sync"
    gcp = pay["clouds"]["gcp"]["settings"]  # Pub/Sub push subscription: attempts, then its dead-letter topic
    assert gcp["max_delivery_attempts"] == 5 and gcp["dead_letter_topic"] == "payments-dead-letter"


def test_policy_text_says_what_a_cloud_or_the_runtime_cannot_honour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forever_app.py").write_text(
        "from corefn import App\napp = App('forever')\n\n"
        "@app.stream('clicks', max_attempts=0, max_age=30)\ndef click(record):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    done = policy("forever_app:app", "--cloud", "local", "--cloud", "aws")
    assert done.exit_code == 0, done.output
    text = done.output
    assert "click (stream, stream): attempts until the record expires" in text
    assert "MaximumRetryAttempts=-1" in text and "BisectBatchOnFunctionError=True" in text
    assert "max_age 30 s is outside Lambda's" in text  # the AWS adapter's own note
    assert "max_attempts=0 (until the record expires) is not honoured locally" in text
    assert policy("forever_app:app", "--cloud", "nowhere").exit_code == 2
