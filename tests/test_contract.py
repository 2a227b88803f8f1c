"""The adapter contract, checked on every payload fixture of every cloud.

Adding a fixture under ``tests/events/<cloud>/`` (with its ``.expected.json`` where the JSON
form covers it) is all it takes to have it checked here: inspect output field by field,
detection without ``--cloud``, the CLI's exit codes, and mutated payloads that may only ever
produce documented corefn errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from corefn.adapters import parse
from corefn.cli.inspect import inspect_payload
from corefn.errors import CorefnError, EventShapeError
from corefn.testing import assert_matches, load_payload, mutations, payload_files

EVENTS = Path(__file__).parent / "events"
PAYLOADS = list(payload_files(EVENTS))
WITH_EXPECTED = [p for p in PAYLOADS if p.with_suffix(".expected.json").exists()]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".expected.json").read_text())


@pytest.mark.parametrize("path", WITH_EXPECTED, ids=_id)
def test_inspect_gives_the_expected_events(path: Path) -> None:
    actual = inspect_payload(load_payload(path), cloud=path.parent.name)
    assert_matches(_expected(path), actual)
    json.dumps(actual)  # the JSON form must serialise as is


@pytest.mark.parametrize("path", WITH_EXPECTED, ids=_id)
def test_cloud_and_shape_are_detected_without_cloud(path: Path) -> None:
    expected = _expected(path)
    if expected.get("detectable") is False:  # documented in the fixture: no signature to detect
        pytest.skip(expected.get("why", "payload carries no provider signature"))
    told = parse(load_payload(path), cloud=path.parent.name)
    guessed = parse(load_payload(path))
    assert (guessed.cloud, guessed.shape_name) == (told.cloud, told.shape_name)


@pytest.mark.parametrize("path", [p for p in PAYLOADS if p not in WITH_EXPECTED], ids=_id)
def test_uncovered_payloads_still_read_cleanly(path: Path) -> None:
    result = inspect_payload(load_payload(path), cloud=path.parent.name)
    assert isinstance(result["events"], list)


@pytest.mark.parametrize("path", PAYLOADS, ids=_id)
def test_mutated_payloads_only_raise_documented_errors(path: Path) -> None:
    payload = load_payload(path)
    cloud = path.parent.name

    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(mutations(payload))
    def check(mutated: Any) -> None:
        try:
            result = inspect_payload(mutated, cloud=cloud)
        except CorefnError:
            return
        json.dumps(result)

    check()


def test_other_clouds_payloads_are_refused_not_misread() -> None:
    """``--cloud X`` on a payload that clearly belongs to cloud Y is an error, for every pair."""
    clouds = sorted({p.parent.name for p in WITH_EXPECTED})
    for path in WITH_EXPECTED:
        payload, owner = load_payload(path), path.parent.name
        if _expected(path).get("detectable") is False:
            continue
        for cloud in clouds:
            if cloud == owner:
                continue
            with pytest.raises(CorefnError) as info:
                inspect_payload(payload, cloud=cloud)
            assert "not a" in str(info.value) or isinstance(info.value, EventShapeError), (path, cloud)


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.path.insert(0, 'adapters/demo'); from corefn_demo import adapter; from corefn.adapters import register; " \
        "register(adapter); from corefn.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, "inspect", *args], input=stdin, capture_output=True, text=True,
        cwd=Path(__file__).parent.parent, timeout=60,
    )


def test_cli_prints_the_json_form_and_exits_0() -> None:
    done = _cli(str(EVENTS / "demo" / "queue-two.json"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["cloud"] == "demo" and out["shape"] == "demo-queue" and len(out["events"]) == 2


def test_cli_reads_stdin_and_forces_invoke() -> None:
    done = _cli("-", "--shape", "invoke", stdin='{"width": 100}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == [{"kind": "invoke", "payload": {"width": 100}}]


@pytest.mark.parametrize(
    "payload, message",
    [
        ('{"anything": 1}', "not a recognised payload"),
        ('{"demo": "queue", "queue": "q", "messages": [{"mid": "m1"}]}', "messages[0].text"),
        ("not json", "not JSON"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(payload: str, message: str) -> None:
    done = _cli("-", stdin=payload)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
