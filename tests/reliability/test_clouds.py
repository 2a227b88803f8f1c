"""``idempotent=True`` through every cloud's adapter: each cloud's sample payload of each trigger
kind, delivered twice as the cloud would (``corefn.testing.call``), runs the handler once per
event; the key is the event's own id (message id, S3 sequencer, CloudEvent id, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corefn import App, Batch
from corefn.adapters import get_adapter, parse
from corefn.testing import call

KINDS = ("queue", "topic", "storage", "stream", "nosql", "timer", "invoke")
def _sample(cloud: str, kind: str) -> Any:
    try:
        return get_adapter(cloud).sample(kind)  # type: ignore[attr-defined]
    except Exception:
        return None


CASES = [(cloud, kind) for cloud in ("aws", "azure", "gcp", "openwhisk") for kind in KINDS if _sample(cloud, kind) is not None]

DECLARE = {
    "queue": lambda app, fn: app.queue("q", name="h", idempotent=True)(fn),
    "topic": lambda app, fn: app.topic("t", name="h", idempotent=True)(fn),
    "storage": lambda app, fn: app.storage("b", on="*", name="h", idempotent=True)(fn),
    "stream": lambda app, fn: app.stream("s", name="h", idempotent=True)(fn),
    "nosql": lambda app, fn: app.nosql("n", name="h", idempotent=True)(fn),
    "timer": lambda app, fn: app.timer("*/5 * * * *", name="h", idempotent=True)(fn),
    "invoke": lambda app, fn: app.invoke(name="h", idempotent=True)(fn),
}


@pytest.mark.parametrize(("cloud", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_a_redelivered_sample_runs_the_handler_once(cloud: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    payload = _sample(cloud, kind)
    events = parse(payload, cloud=cloud).events
    identities = [e.identity for e in events]
    app = App("once")
    runs: list[Any] = []

    def handler(event: Any) -> dict[str, int]:
        runs.append(event.identity)
        return {"run": len(runs)}

    # the kind the adapter reads the sample as (GCP's "stream" sample is a Pub/Sub message)
    DECLARE[events[0].kind if events else kind](app, handler)
    if any(i is None for i in identities):  # no id to key on: the delivery fails, it never runs unguarded
        try:
            answer = call(app, payload, cloud=cloud, pinned="h")
        except Exception as exc:
            answer = exc
        assert runs == [] and ("no id to key on" in str(answer) or "batchItemFailures" in str(answer)), answer
        return
    first = call(app, payload, cloud=cloud, pinned="h")
    ran = len(runs)
    second = call(app, payload, cloud=cloud, pinned="h")
    assert ran == len(identities) and len(runs) == ran  # once per event; the redelivery ran nothing
    if events[0].kind == "invoke":
        assert first == second == {"run": 1}  # the stored result answers the redelivery


def test_batch_sqs_redelivery_reports_only_in_progress_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    app = App("once")
    seen: list[str] = []

    @app.queue("q", batch=True, idempotent=True)
    def handle(batch: Batch) -> None:
        seen.extend(m.id for m in batch)

    payload = get_adapter("aws").sample("queue")  # type: ignore[attr-defined]
    assert call(app, payload, cloud="aws", pinned="handle") == {"batchItemFailures": []}
    assert call(app, payload, cloud="aws", pinned="handle") == {"batchItemFailures": []}
    assert seen == [r["messageId"] for r in payload["Records"]]
