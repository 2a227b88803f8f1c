"""``corefn invoke`` and ``corefn event``, in process through click's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from corefn_demo import adapter as demo_adapter

from corefn.cli import main

APP = "tests.local.apps.basic:app"


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COREFN_TEST_OUT", str(tmp_path))
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


def test_invoke_with_data_prints_the_json_result(out: Path) -> None:
    result = run("invoke", APP, "add", "--data", '{"a": 2, "b": 40}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sum": 42}
    assert json.loads(run("invoke", APP, "--data", "-", stdin='{"a": 1, "b": 1}').output) == {"sum": 2}


def test_invoke_failure_exits_1_and_bad_input_2(out: Path) -> None:
    assert run("invoke", APP, "add", "--data", '{"a": 1}').exit_code == 1
    assert run("invoke", APP, "add", "--data", "{not json").exit_code == 2
    assert run("invoke", APP, "nope", "--data", "{}").exit_code == 2
    assert run("invoke", APP).exit_code == 2


def test_invoke_event_replays_a_provider_payload_through_its_adapter(out: Path, tmp_path: Path) -> None:
    payload = tmp_path / "queue.json"
    payload.write_text(json.dumps({"demo": "queue", "queue": "jobs", "messages": [
        {"mid": "m1", "text": "first", "tries": 1}, {"mid": "m2", "text": "second", "tries": 3}]}))
    result = run("invoke", APP, "--event", str(payload), "--cloud", "demo")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 2 and "on_job" in result.output
    seen = [json.loads(line) for line in (out / "on_job.jsonl").read_text().splitlines()]
    assert [(s["id"], s["body"], s["attempt"]) for s in seen] == [("m1", "first", 1), ("m2", "second", 3)]
    payload.write_text(json.dumps({"demo": "queue", "queue": "jobs", "messages": [{"mid": "m3", "text": "fail"}]}))
    failed = run("invoke", APP, "on_job", "--event", str(payload))
    assert failed.exit_code == 1 and "failed" in failed.output and "always fails" in failed.output


def test_invoke_event_http_prints_the_response(out: Path, tmp_path: Path) -> None:
    payload = tmp_path / "http.json"
    payload.write_text(json.dumps({"demo": "http", "verb": "GET", "url": "/hello?name=demo"}))
    result = run("invoke", APP, "--event", str(payload))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("http 200") and '{"hello":"demo"}' in result.output


def test_invoke_event_bad_payload_exits_2(out: Path, tmp_path: Path) -> None:
    payload = tmp_path / "bad.json"
    payload.write_text(json.dumps({"demo": "queue", "messages": []}))  # no queue name
    result = run("invoke", APP, "--event", str(payload), "--cloud", "demo")
    assert result.exit_code == 2 and "queue" in result.output


def test_event_prints_the_adapters_sample(out: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    samples = {"queue": {"demo": "queue", "queue": "jobs", "messages": [{"mid": "s1", "text": "sample"}]}}

    def sample(trigger: str) -> dict[str, Any]:
        return samples[trigger]

    monkeypatch.setattr(type(demo_adapter), "sample", staticmethod(sample))
    result = run("event", "demo", "queue")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == samples["queue"]
    # usable as is with corefn invoke --event
    path = tmp_path / "sample.json"
    path.write_text(result.output)
    assert run("invoke", APP, "--event", str(path)).exit_code == 0
    unknown = run("event", "demo", "nosql")
    assert unknown.exit_code == 2 and "no sample" in unknown.output


def test_event_without_samples_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_adapter, "samples", None)  # no samples: the default says so
    result = run("event", "demo", "queue")
    assert result.exit_code == 2 and "no sample payloads" in result.output
    assert run("event", "no-such-cloud", "queue").exit_code == 2
