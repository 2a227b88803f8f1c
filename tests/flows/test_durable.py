"""Runs survive ``kill -9``: the runtime is killed while a step is running (so every step before
it has finished and been recorded), restarted, and the run completes without running any
finished step again; only the interrupted step runs twice (its attempt counted)."""

from __future__ import annotations

import json
import signal

import pytest

from tests.flows.conftest import Flows

#: (flow, step address to kill in, every step address the run has, expected result)
BOUNDARIES = [
    ("chain", "0", ["0", "1", "2", "3"], {"n": 5, "done": True}),
    ("chain", "1", ["0", "1", "2", "3"], {"n": 5, "done": True}),
    ("chain", "2", ["0", "1", "2", "3"], {"n": 5, "done": True}),
    ("chain", "3", ["0", "1", "2", "3"], {"n": 5, "done": True}),
    ("fan", "2/1", ["0", "1", "2/0", "2/1"], [{"n": 2}, {"n": 2}, {"n": 4}]),  # inside a parallel branch
    ("mapped", "0[2]", [f"0[{i}]" for i in range(5)], [1, 4, 9, 16, 25]),  # inside a map item
    ("branching", "0", ["0"], "label:a"),  # the branch a choice picked (the choice is recorded)
]


@pytest.mark.parametrize(("flow", "kill_at", "addresses", "expected"), BOUNDARIES, ids=[f"{b[0]}@{b[1]}" for b in BOUNDARIES])
def test_kill_9_at_a_step_boundary_resumes_from_the_last_finished_step(
    flows: Flows, flow: str, kill_at: str, addresses: list[str], expected: object
) -> None:
    from corefn.flows.store import start_run

    data = {"mapped": {"items": [1, 2, 3, 4, 5]}, "branching": {"kind": "a"}}.get(flow, {"n": 1})
    run_id = start_run(flows.state, flow, data)  # recorded before any runtime runs: the next one takes it
    proc = flows.start(COREFN_TEST_BLOCK=kill_at)
    flows.wait_for_file(flows.out / "blocked", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = flows.steps(run_id)
    assert before[kill_at]["status"] == "running"
    finished = {a for a, row in before.items() if row["status"] == "succeeded"}
    if "/" not in kill_at and "[" not in kill_at:  # a sequence: every step before the killed one had finished
        assert finished & set(addresses) == {a for a in addresses if a < kill_at}

    code, out = flows.until_idle()
    assert code == 0, out
    assert "resumed 1 flow run(s)" in out
    if flow == "branching":
        assert before[""]["kind"] == "choice" and before[""]["status"] == "succeeded"  # decided before the kill
    starts = sorted((address, attempt) for _, address, attempt in flows.starts())
    assert starts.count((kill_at, 1)) == 1 and starts.count((kill_at, 2)) == 1  # the killed step ran again
    assert {a for a, _ in starts} == set(addresses)  # every step ran, none was skipped
    for address in finished & set(addresses):
        assert [a for a, _ in starts].count(address) == 1, f"finished step {address} ran again"
    if "/" not in kill_at and "[" not in kill_at:
        assert starts == sorted([(a, 1) for a in addresses] + [(kill_at, 2)])  # later steps once
    (run,) = flows.runs()
    output = json.loads(run["output"])
    assert run["status"] == "succeeded"
    assert (output["squares"] if flow == "mapped" else output) == expected


def test_a_finished_run_is_not_run_again_by_the_next_runtime(flows: Flows) -> None:
    from corefn.flows.store import start_run

    start_run(flows.state, "chain", {"n": 1})
    assert flows.until_idle()[0] == 0
    count = len(flows.starts())
    code, out = flows.until_idle()
    assert code == 0 and "previous run had not finished" not in out
    assert len(flows.starts()) == count == 4


@pytest.mark.parametrize(("address", "status"), [("0", "retrying"), ("1", "waiting")])
def test_kill_9_during_a_retry_back_off_or_a_wait_keeps_attempts_and_waits(flows: Flows, address: str, status: str) -> None:
    """A run suspended (a retry's back-off, a wait: half a second each) when the runtime dies: the next runtime
    goes on from there: the attempt count is kept, a finished step does not run again."""
    import time

    from corefn.flows.store import start_run

    run_id = start_run(flows.state, "patient", {"fails": 1})
    proc = flows.start()
    deadline = time.time() + 15
    while (flows.steps(run_id).get(address) or {}).get("status") != status:
        assert time.time() < deadline and proc.poll() is None, "the run never got there"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    code, out = flows.until_idle()
    assert code == 0, out
    assert sorted((h, a, n) for h, a, n in flows.starts()) == [("finish", "2", 1), ("flaky", "0", 1), ("flaky", "0", 2)]
    steps = flows.steps(run_id)
    assert steps["1"]["started"] >= steps["0"]["finished"] and steps["2"]["started"] >= steps["1"]["wake_at"]


def wait_for_sigterm_handler(pid: int) -> None:
    """Until the runtime has installed its SIGTERM handler (Linux: the SigCgt mask in /proc), so
    the signal means "stop cleanly", not the default instant death."""
    import time
    from pathlib import Path

    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        pytest.skip("needs /proc to know when the runtime handles SIGTERM")
    deadline = time.time() + 15
    while time.time() < deadline:
        caught = next(line for line in status.read_text().splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.02)
    raise AssertionError("the runtime never installed a SIGTERM handler")


def test_sigterm_stops_the_runtime_while_a_step_hangs_and_the_next_run_finishes_it(flows: Flows) -> None:
    from corefn.flows.store import start_run

    run_id = start_run(flows.state, "chain", {"n": 1})
    proc = flows.start(COREFN_TEST_BLOCK="1")
    flows.wait_for_file(flows.out / "blocked", proc)
    wait_for_sigterm_handler(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0  # a hanging step does not keep the runtime from stopping cleanly
    assert flows.steps(run_id)["1"]["status"] == "running"
    code, out = flows.until_idle()
    assert code == 0, out
    assert sorted((a, n) for _, a, n in flows.starts()) == [("0", 1), ("1", 1), ("1", 2), ("2", 1), ("3", 1)]


def test_a_run_started_under_another_definition_is_not_resumed_under_this_one(flows: Flows) -> None:
    """Its recorded steps are addressed by position in the old tree: replaying them against a
    changed tree could skip or repeat work, so the run fails with a message saying why."""
    from corefn.flows.store import start_run

    run_id = start_run(flows.state, "chain", {"n": 1})
    with flows.db() as db:
        db.execute("UPDATE flow_runs SET started=1, deadline=1e12, fingerprint='older-tree' WHERE id=?", (run_id,))
    code, out = flows.until_idle()
    assert code == 1
    (run,) = flows.runs()
    assert run["status"] == "failed" and run["error"] == "flow 'chain' changed since this run started; it cannot be resumed"
    assert flows.starts() == []
