"""Idempotency and dead letters on the local runtime (``corefn run`` in a subprocess)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3

from corefn.local.store import NewDelivery
from tests.reliability.conftest import Reliable


def idempotency_rows(rel: Reliable) -> list[tuple[str, str]]:
    with sqlite3.connect(rel.state / "runtime.db") as db:
        return db.execute("SELECT key, status FROM idempotency ORDER BY key").fetchall()


def test_redelivered_message_runs_once_and_its_record_commits_with_the_ack(rel: Reliable) -> None:
    status, out = rel.until_idle()  # first run records who consumes what
    assert status == 0, out
    store = rel.store()
    # the same message delivered three times (a publisher retrying, a visibility timeout...)
    store.insert([NewDelivery("queue", "payments", "pay", body=b"sleep:0.3", id="m-1") for _ in range(3)])
    store.insert([NewDelivery("queue", "payments", "pay", body=b"other", id="m-2")])
    status, out = rel.until_idle()
    assert status == 0, out
    runs = [r["id"] for r in rel.records("pay")]
    assert sorted(runs) == ["m-1", "m-2"], out  # each message's handler ran once
    assert "dup" in out and "replayed" in out  # the duplicates were answered from the record
    assert idempotency_rows(rel) == [("pay#m-1", "completed"), ("pay#m-2", "completed")]
    with sqlite3.connect(rel.state / "runtime.db") as db:
        assert db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 0


def test_kill_9_leaves_no_stale_in_progress_record(rel: Reliable) -> None:
    rel.until_idle()
    rel.store().insert([NewDelivery("queue", "payments", "pay", body=b"sleep:30", id="slow")])
    proc = rel.start("--port", "0")
    rel.wait_for(lambda: len(rel.records("pay")) == 1, timeout=20)
    assert idempotency_rows(rel) == [("pay#slow", "in_progress")]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the next runtime knows the run died with its predecessor: the message runs again at once
    with sqlite3.connect(rel.state / "runtime.db") as db:
        db.execute("UPDATE deliveries SET body=? WHERE id='slow'", (b"sleep:0",))
    status, out = rel.until_idle()
    assert status == 0, out
    assert [r["id"] for r in rel.records("pay")] == ["slow", "slow"]
    assert idempotency_rows(rel) == [("pay#slow", "completed")]


def test_dead_letters_list_show_and_redrive(rel: Reliable) -> None:
    (rel.out / "broken").touch()
    jobs = rel.publisher("jobs")
    jobs.send("poison", {"trace": "t1"})
    jobs.send("fragile")
    status, out = rel.until_idle()
    assert status == 1, out

    listed = rel.cli("dead", "tests.reliability.app:app", "list", "--json")
    assert listed.exit_code == 0, listed.output
    letters = json.loads(listed.output)
    assert sorted(d["error"] for d in letters) == ["ValueError: cannot process 'fragile'", "ValueError: cannot process 'poison'"]
    assert all(d["handler"] == "work" and d["attempts"] == 2 and d["age_s"] >= 0 for d in letters)
    text = rel.cli("dead", "tests.reliability.app:app", "list").output
    assert "work" in text and "cannot process 'poison'" in text and "attempts" in text

    poison = next(d for d in letters if "poison" in d["error"])
    fragile = next(d for d in letters if "fragile" in d["error"])
    shown = rel.cli("dead", "tests.reliability.app:app", "show", str(poison["id"]))
    assert shown.exit_code == 0 and "body        poison" in shown.output and '"trace": "t1"' in shown.output
    assert rel.cli("dead", "tests.reliability.app:app", "show", "999999").exit_code == 2

    # fixed: redrive the fragile one to its own handler, attempts reset
    (rel.out / "broken").unlink()
    moved = rel.cli("dead", "tests.reliability.app:app", "redrive", str(fragile["id"]))
    assert moved.exit_code == 0 and "redriven 1 message(s)" in moved.output
    status, out = rel.until_idle()
    assert status == 0, out
    fragile_runs = [r for r in rel.records("work") if r["body"] == "fragile"]
    assert [r["attempt"] for r in fragile_runs] == [1, 2, 1]  # the redriven delivery starts again at 1

    remaining = json.loads(rel.cli("dead", "tests.reliability.app:app", "list", "--json").output)
    assert [d["id"] for d in remaining] == [poison["id"]]


def test_redrive_to_a_handler_of_another_kind_is_refused(rel: Reliable) -> None:
    rel.publisher("jobs").send("poison")
    rel.until_idle()
    (letter,) = json.loads(rel.cli("dead", "tests.reliability.app:app", "list", "--json").output)
    refused = rel.cli("dead", "tests.reliability.app:app", "redrive", str(letter["id"]), "--to", "morning")
    assert refused.exit_code == 2 and "takes timer events" in refused.output
    unknown = rel.cli("dead", "tests.reliability.app:app", "redrive", "--all", "--to", "nobody")
    assert unknown.exit_code == 2 and "no handler 'nobody'" in unknown.output
    assert rel.cli("dead", "tests.reliability.app:app", "redrive", "--all", "--handler", "pay").output.strip() == "no dead letters to redrive"
    moved = rel.cli("dead", "tests.reliability.app:app", "redrive", "--all", "--handler", "work", "--to", "rework")
    assert moved.exit_code == 0, moved.output
    status, out = rel.until_idle()
    assert status == 0, out
    assert [(r["body"], r["attempt"]) for r in rel.records("rework")] == [("poison", 1)]
    assert rel.cli("dead", "tests.reliability.app:app", "list").output.strip() == "no dead letters"
    assert rel.cli("dead", "tests.reliability.app:app", "redrive").exit_code == 2  # neither ids nor --all


def test_dead_without_a_state_folder_says_so(rel: Reliable) -> None:
    result = rel.cli("dead", "tests.reliability.app:app", "list", "--state", str(rel.root / "nowhere"))
    assert result.exit_code != 0 and "holds no corefn run state" in result.output


def test_a_kill_costs_no_attempt_to_claimed_messages_that_never_ran(rel: Reliable) -> None:
    rel.until_idle()
    store = rel.store()
    store.insert([NewDelivery("queue", "payments", "pay", body=b"sleep:30", id="slow")])
    store.insert([NewDelivery("queue", "payments", "pay", body=b"quick", id=f"q{n}") for n in range(10)])
    proc = rel.start("--port", "0")
    rel.wait_for(lambda: any(r["id"] == "slow" for r in rel.records("pay")), timeout=20)
    with sqlite3.connect(rel.state / "runtime.db") as db:  # the slow one's worker holds the rows it claimed after it
        waiting = db.execute("SELECT COUNT(*) FROM deliveries WHERE claimed_at IS NOT NULL AND id != 'slow'").fetchone()[0]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert waiting >= 1
    # the other workers may have been mid-run on a quick message at the kill: that run started, so its
    # attempt counts (as the slow one's does); only messages that never started must keep attempt 1.
    # A run has started once its in-progress record is written, which is before the handler writes
    # its own record: a kill between the two is a started run the handler's records do not show
    begun = {key.split("#", 1)[1] for key, _ in idempotency_rows(rel) if key.startswith("pay#")}
    started = {r["id"] for r in rel.records("pay")} | begun
    with sqlite3.connect(rel.state / "runtime.db") as db:
        db.execute("UPDATE deliveries SET body=? WHERE id='slow'", (b"sleep:0",))
    status, out = rel.until_idle()
    assert status == 0, out
    attempts = {r["id"]: r["attempt"] for r in rel.records("pay")}  # the last attempt each message ran at
    assert attempts.pop("slow") == 2  # it had started: that attempt counts
    never_started = {m: a for m, a in attempts.items() if m not in started}
    assert never_started and set(never_started.values()) == {1}, attempts  # claimed, never run: no attempt lost
    assert all(a <= 2 for a in attempts.values()), attempts  # a run cut by the kill costs exactly one attempt
