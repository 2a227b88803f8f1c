"""Shared set-up for the GCP tests: the sample app's generated ``main.py`` and a way to load one
of its targets with functions-framework, exactly as Cloud Functions does."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corefn_gcp import adapter
from tests.gcp import sample_app

APP_REF = "tests.gcp.sample_app:app"
EVENTS = Path(__file__).parent.parent / "events" / "gcp"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gcp-deploy")
    for rel, content in adapter.generate(sample_app.app, APP_REF).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content) if isinstance(content, str) else path.write_bytes(content)
    return out


@pytest.fixture
def target(generated: Path) -> Any:
    """``target("on_upload")`` → the Flask app functions-framework builds for that target."""
    import functions_framework

    def load(name: str) -> Any:
        return functions_framework.create_app(name, str(generated / "main.py"))

    return load


@pytest.fixture(autouse=True)
def _clean_recorder() -> Iterator[None]:
    sample_app.RECEIVED.clear()
    sample_app.FAIL.clear()
    yield
    sample_app.RECEIVED.clear()
    sample_app.FAIL.clear()


def received(name: str) -> list[Any]:
    return [event for handler, event in sample_app.RECEIVED if handler == name]


def fixture(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def binary_mode(event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """A CloudEvent dict as a binary-mode HTTP request (``ce-*`` headers, data as the body), the
    way Eventarc delivers to Cloud Functions."""
    headers = {f"ce-{k}": str(v) for k, v in event.items() if k not in ("data", "data_base64", "datacontenttype")}
    headers["Content-Type"] = event.get("datacontenttype", "application/json")
    if "data_base64" in event:
        return headers, base64.b64decode(event["data_base64"])
    return headers, json.dumps(event["data"]).encode()
