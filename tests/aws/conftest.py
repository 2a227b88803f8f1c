"""Shared set-up for the AWS adapter tests: the Lambda environment of the fixture app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws import fixture_app

EVENTS = Path(__file__).resolve().parents[1] / "events" / "aws"


class LambdaContext:
    """The two members of Lambda's context object corefn reads (the real one is built by the
    Lambda runtime, which has no constructor to call outside it)."""

    def __init__(self, request_id: str = "req-0001", remaining_ms: int = 30_000) -> None:
        self.aws_request_id = request_id
        self.function_name = "fixture-app"
        self._remaining = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining


def load(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lambda's environment for the fixture app, with no name map and no pinned handler."""
    monkeypatch.setenv("COREFN_APP", "tests.aws.fixture_app:app")
    monkeypatch.delenv("COREFN_HANDLER", raising=False)
    monkeypatch.delenv("COREFN_NAMES", raising=False)
    fixture_app.reset()
    yield
    fixture_app.reset()
