"""Queues and topics on the local runtime: retries, dead letters, fan-out, and kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3

import httpx

from tests.local.conftest import Local


def dead_rows(local: Local) -> list[tuple[str, str, int, str]]:
    with sqlite3.connect(local.state / "runtime.db") as db:
        return db.execute("SELECT handler, body, attempt, last_error FROM dead").fetchall()


def test_failing_message_is_dead_lettered_after_exactly_five_attempts(local: Local) -> None:
    jobs = local.publisher("jobs")
    jobs.send("fail")
    jobs.send("fine")
    status, out = local.until_idle()
    assert status == 1, out  # something was dead-lettered
    attempts = [r["attempt"] for r in local.records("on_job") if r["body"] == "fail"]
    assert attempts == [1, 2, 3, 4, 5]
    assert [r["attempt"] for r in local.records("on_job") if r["body"] == "fine"] == [1]
    (dead,) = dead_rows(local)
    assert dead[0] == "on_job" and bytes(dead[1]) == b"fail" and dead[2] == 5 and "always fails" in dead[3]
    assert "RETRY" in out and "DEAD" in out and "attempt 5/5" in out
    summary = out[out.index("summary:") :]
    assert "on_job" in summary and " 1 " in summary


def test_max_attempts_is_configurable(local: Local) -> None:
    local.publisher("jobs").send("fail")
    status, _ = local.until_idle("--max-attempts", "2")
    assert status == 1
    assert [r["attempt"] for r in local.records("on_job")] == [1, 2]


def test_clean_run_exits_zero_and_topic_fans_out(local: Local) -> None:
    local.publisher("alerts", target="topic").send_batch(["a1", "a2", "a3"])
    status, out = local.until_idle()
    assert status == 0, out
    assert sorted(r["body"] for r in local.records("alert_a")) == ["a1", "a2", "a3"]
    assert sorted(r["body"] for r in local.records("alert_b")) == ["a1", "a2", "a3"]
    # published again now that subscriptions are recorded: routed at publish time
    local.publisher("alerts").send("a4")
    status, _ = local.until_idle()
    assert status == 0
    assert [r["body"] for r in local.records("alert_a")][-1] == "a4"
    assert [r["body"] for r in local.records("alert_b")][-1] == "a4"


def test_messages_published_by_handlers_are_processed_in_the_same_run(local: Local) -> None:
    proc, base = local.serve()
    assert httpx.post(f"{base}/jobs", content=b"from-http").status_code == 200
    local.wait_for(lambda: any(r["body"] == "from-http" for r in local.records("on_job")))


def test_kill_9_mid_message_loses_nothing(local: Local) -> None:
    count = 60
    ids = set(local.publisher("jobs").send_batch(["sleep:0.1"] * count))
    proc = local.start("--port", "0")
    local.wait_for(lambda: len(local.records("on_job")) >= 8, timeout=20)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    seen_before = {r["id"] for r in local.records("on_job")}
    assert len(seen_before) < count  # killed mid-way
    status, out = local.until_idle()
    assert status == 0, out
    seen = [r["id"] for r in local.records("on_job")]
    assert set(seen) == ids  # none missing (at-least-once: a few may run twice)
    assert "recovered" in out


def test_declared_dead_letter_queue_receives_the_poison_message(local: Local) -> None:
    local.publisher("risky").send("poison", {"trace": "t1"})
    status, out = local.until_idle()
    assert status == 1
    assert [r["attempt"] for r in local.records("risky")] == [1, 2]  # the handler's own max_attempts
    (dead,) = local.records("risky_dead")
    assert dead["body"] == "poison"
    assert dead["attributes"] == {"trace": "t1", "corefn-dead-letter-from": "risky", "corefn-attempts": "2"}


def test_head_request_answers_like_get_without_a_body(local: Local) -> None:
    proc, base = local.serve()
    response = httpx.head(f"{base}/hello")
    assert response.status_code == 200 and response.content == b""


def test_a_handler_past_its_timeout_counts_as_failed(local: Local) -> None:
    local.publisher("slowpoke").send("zzz")
    status, out = local.until_idle()
    assert status == 1, out
    assert [r["attempt"] for r in local.records("slowpoke")] == [1, 2]
    assert "over its 0.2 s timeout" in out
