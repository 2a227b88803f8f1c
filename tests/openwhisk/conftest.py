"""OpenWhisk test set-up: the runtime's per-activation environment, and the sample app."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.openwhisk import sample_app

APP_REF = "tests.openwhisk.sample_app:app"


@pytest.fixture
def ow_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> dict[str, str]:
    """What the python:3.11 runtime sets in the environment before each main(params) call, plus
    the sample app's sink URL (on a cloud an unconfigured sink is an error at cold start)."""
    monkeypatch.setenv("COREFN_SINK_THUMBNAILS", f"file://{tmp_path}/thumbnails")
    env = {
        "__OW_ACTIVATION_ID": "6f4c2d1e0a9b4c8d8e7f6a5b4c3d2e1f",
        "__OW_DEADLINE": str(int((time.time() + 60) * 1000)),
        "__OW_ACTION_NAME": "/guest/owtest/action",
        "__OW_NAMESPACE": "guest",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("COREFN_APP", raising=False)
    monkeypatch.delenv("COREFN_HANDLER", raising=False)
    return env


@pytest.fixture
def seen() -> Iterator[list[object]]:
    sample_app.SEEN.clear()
    yield sample_app.SEEN
    sample_app.SEEN.clear()
