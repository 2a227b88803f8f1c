"""Parity: every fixture of every cloud (``tests/events/<cloud>/``) delivered through
``corefn.testing.call`` and through the entry point ``corefn deploy`` generates gives the handler
the same events, field by field.

The entry points, each called the way its platform calls it:

- AWS: ``corefn_aws.runtime.handler(event, context)`` with ``COREFN_APP`` / ``COREFN_HANDLER``
  set as the SAM template sets them.
- GCP: the generated ``main.py`` loaded by functions-framework and called through Flask's test
  client: CloudEvents in structured mode, Pub/Sub push bodies and legacy events as JSON bodies.
- OpenWhisk: the generated ``actions/<action>/__main__.py``'s ``main(params)``.
- Azure: the generated ``function_app.py``'s own ``run`` with the fixture. The fixtures are the
  JSON forms (host envelopes, Event Grid); the Python worker would hand the generated functions
  binding objects instead, whose path ``tests/azure/test_function_app.py`` covers, so here the
  shape is detected, as a hand-written ``function_app.py`` would have it.

Fixtures whose payload is not an event of a trigger (an invoke, a warm-up ping, a payload the
contract says is unreadable) are delivered too: both paths must then fail alike.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from corefn import testing
from corefn.adapters import get_adapter, parse
from corefn.errors import CorefnError
from tests import parity_app

APP_REF = "tests.parity_app:app"
EVENTS = Path(__file__).resolve().parent / "events"
CLOUDS = ("aws", "azure", "gcp", "openwhisk")


def fixtures() -> Iterator[Any]:
    for cloud in CLOUDS:
        for path in testing.payload_files(EVENTS, cloud):
            yield pytest.param(cloud, path, id=f"{cloud}/{path.stem}")


def kind_of(cloud: str, raw: Any) -> str | None:
    try:
        parsed = parse(raw, cloud)
    except CorefnError:
        return None
    return parsed.events[0].kind if parsed.events and parsed.shape is not None else None


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {}
    for cloud in ("azure", "gcp", "openwhisk"):
        folder = folders[cloud] = tmp_path_factory.mktemp(f"parity-{cloud}")
        for rel, content in get_adapter(cloud).generate(parity_app.app, APP_REF).items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content) if isinstance(content, str) else path.write_bytes(content)
    return folders


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- entry points


def via_aws(raw: Any, handler: str, folder: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn_aws.runtime import handler as lambda_handler

    monkeypatch.setenv("COREFN_APP", APP_REF)
    monkeypatch.setenv("COREFN_HANDLER", handler)
    lambda_handler(raw, None)


def via_azure(raw: Any, handler: str, folder: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert folder is not None
    monkeypatch.setenv("COREFN_APP", APP_REF)
    module = _module(folder / "function_app.py", "parity_function_app")
    module.run(APP_REF, handler, raw, None)


def via_openwhisk(raw: Any, handler: str, folder: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert folder is not None
    action = "corefn-web" if handler == "web" else handler
    module = _module(folder / "actions" / action / "__main__.py", f"parity_action_{action.replace('-', '_')}")
    answer = module.main(copy.deepcopy(raw))
    if isinstance(answer, dict) and "error" in answer and "statusCode" not in answer:
        raise RuntimeError(answer["error"])


def via_gcp(raw: Any, handler: str, folder: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    import functions_framework

    assert folder is not None
    main = (folder / "main.py").read_text()
    signature = re.search(rf"@functions_framework\.(\w+)\ndef {handler}\(", main)
    assert signature is not None, handler
    client = functions_framework.create_app(handler, str(folder / "main.py")).test_client()
    if "specversion" in raw:  # structured mode, as Eventarc may deliver
        answer = client.post("/", data=json.dumps(raw), content_type="application/cloudevents+json")
    else:  # a Pub/Sub push body, a legacy (1st gen) event, a scheduler message
        answer = client.post("/", data=json.dumps(raw), content_type="application/json")
    if answer.status_code >= 300:
        raise RuntimeError(f"{answer.status_code}: {answer.get_data(as_text=True)[:200]}")


ENTRY: dict[str, Callable[[Any, str, Path | None, pytest.MonkeyPatch], None]] = {
    "aws": via_aws,
    "azure": via_azure,
    "gcp": via_gcp,
    "openwhisk": via_openwhisk,
}


# --------------------------------------------------------------------------------- the test


def delivered(run: Callable[[], Any]) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """What the handlers received (name, event as JSON form) and the failure, if any."""
    parity_app.RECEIVED.clear()
    error = None
    try:
        run()
    except Exception as exc:  # compared below: both paths must fail alike
        error = type(exc).__name__
    events = [(name, event.to_dict()) for name, event in parity_app.RECEIVED]
    parity_app.RECEIVED.clear()
    return events, error


@pytest.mark.parametrize(("cloud", "path"), list(fixtures()))
def test_testing_call_delivers_what_the_entry_point_delivers(
    cloud: str, path: Path, generated: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COREFN_NAMES", raising=False)
    monkeypatch.delenv("COREFN_HANDLER", raising=False)
    raw = json.loads(path.read_text())
    kind = kind_of(cloud, raw)
    if kind is not None and kind not in parity_app.HANDLERS:
        pytest.skip(f"the parity app declares no {kind} handler yet")
    handler = parity_app.HANDLERS.get(kind or "", "jobs")  # unreadable payloads: any pin fails alike
    if cloud == "gcp" and kind == "nosql" and "specversion" not in raw and "context" not in raw:
        pytest.skip("a change pushed by Pub/Sub: GCP deploys Firestore handlers as CloudEvent (Eventarc) targets")
    expected, expected_error = delivered(lambda: testing.call(parity_app.app, copy.deepcopy(raw), cloud=cloud, pinned=handler))
    if kind is not None:
        assert expected, f"testing.call delivered nothing ({expected_error})"
    actual, actual_error = delivered(lambda: ENTRY[cloud](copy.deepcopy(raw), handler, generated.get(cloud), monkeypatch))
    assert (expected_error is None) == (actual_error is None), (expected_error, actual_error)
    assert [name for name, _ in actual] == [name for name, _ in expected]
    for i, ((_, want), (_, got)) in enumerate(zip(expected, actual, strict=True)):
        for field in sorted(set(want) | set(got)):
            assert got.get(field) == want.get(field), f"event {i} field {field!r}: entry point {got.get(field)!r}, testing.call {want.get(field)!r}"
