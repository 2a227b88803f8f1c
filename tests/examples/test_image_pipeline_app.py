"""``app.py``'s own decisions, in-process through ``corefn.dispatch`` with the local backends in
a temporary state folder: the logo from the ``assets`` bucket, folder markers, objects deleted
before they are read, and rejection records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corefn import Context, StorageEvent
from corefn.dispatch import dispatch
from corefn.errors import NoHandlerError
from corefn.loader import load_app
from tests.examples.conftest import PIPELINE_REF, SAMPLES, check_outputs, photo


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_apps: None) -> Iterator[Any]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PIPELINE_FORMAT", "PNG")
    yield load_app(PIPELINE_REF)


def upload(app: Any, key: str, data: bytes) -> Any:
    app.sink("originals").put(key, data)
    event = StorageEvent(bucket="originals", key=key, operation="created", size=len(data), id=f"ev-{key}")
    result = dispatch(app, [event], Context(app=app))
    assert result.ok, result.failed
    (outcome,) = result.outcomes
    return outcome.result


def test_a_logo_from_the_assets_bucket(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_WATERMARK_LOGO", "brand/logo.png")
    pipeline.sink("assets").put("brand/logo.png", (SAMPLES / "logo-transparent.png").read_bytes())
    original = photo(fmt="PNG")
    answer = upload(pipeline, "shots/a.png", original)
    assert answer["outcome"] == "done" and answer["thumbnails"].endswith("/thumbnails/shots/a.png")
    marked, thumb = pipeline.sink("watermarked").get("shots/a.png"), pipeline.sink("thumbnails").get("shots/a.png")
    check_outputs(original, marked, thumb, fmt="PNG", lossless=True)
    # the text watermark would look different: the logo really was used
    monkeypatch.delenv("PIPELINE_WATERMARK_LOGO")
    pipeline.handler("make_renditions").handler.__globals__["reset"]()
    upload(pipeline, "shots/b.png", original)
    assert pipeline.sink("watermarked").get("shots/b.png") != marked


def test_a_missing_logo_is_a_failure_to_retry_not_a_rejection(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_WATERMARK_LOGO", "brand/missing.png")
    pipeline.sink("originals").put("a.jpg", photo((400, 300)))
    result = dispatch(
        pipeline, [StorageEvent(bucket="originals", key="a.jpg", operation="created")], Context(app=pipeline)
    )
    assert not result.ok  # a configuration problem: retried, then dead-lettered; the upload is fine
    assert not pipeline.sink("rejected").exists("a.jpg.json")


def test_rejections_are_recorded_with_their_reason(pipeline: Any) -> None:
    for name, reason in (
        ("README.txt", "not-an-image"),
        ("truncated.jpg", "truncated"),
        ("empty.jpg", "empty"),
        ("bomb.png", "too-large"),
    ):
        answer = upload(pipeline, f"in/{name}", (SAMPLES / name).read_bytes())  # the bomb: no Pillow warning either
        assert answer["outcome"] == "rejected" and answer["reason"] == reason
        record = json.loads(pipeline.sink("rejected").get(f"in/{name}.json"))
        assert (record["key"], record["reason"], record["event_id"]) == (f"in/{name}", reason, f"ev-in/{name}")
    assert list(pipeline.sink("thumbnails").list()) == []


def test_folder_markers_and_vanished_objects_are_skipped(pipeline: Any) -> None:
    marker = dispatch(
        pipeline, [StorageEvent(bucket="originals", key="photos/", operation="created", size=0)], Context(app=pipeline)
    )
    assert marker.ok and marker.outcomes[0].result["outcome"] == "skipped"
    gone = dispatch(
        pipeline, [StorageEvent(bucket="originals", key="never-there.jpg", operation="created")], Context(app=pipeline)
    )
    assert gone.ok and gone.outcomes[0].result["outcome"] == "gone"


def test_outputs_trigger_nothing(pipeline: Any) -> None:
    """The buckets the pipeline writes have no handler: an event from one reaches no code."""
    for bucket in ("watermarked", "thumbnails", "rejected"):
        with pytest.raises(NoHandlerError):
            dispatch(pipeline, [StorageEvent(bucket=bucket, key="a.jpg", operation="created")], Context(app=pipeline))
