"""Each flow construct, run for real: ``corefn flow`` in a subprocess (its own engine on a fresh
state folder), checked through what the handlers saw and what ``flows.db`` recorded."""

from __future__ import annotations

from tests.flows.conftest import Flows, result

FAKE_NOW = "2030-01-01T00:00:00Z"


def test_sequence_passes_each_result_to_the_next_step(flows: Flows) -> None:
    done = flows.flow("chain", {"n": 1})
    assert done.returncode == 0, done.stderr
    assert result(done) == {"n": 5, "done": True}  # ((1 + 1) * 2) + 1
    assert [r["payload"] for r in flows.records("add")] == [{"n": 1}, {"n": 4}]
    assert [r["payload"] for r in flows.records("double")] == [{"n": 2}]
    lines = [line for line in done.stdout.splitlines() if " flow  chain#" in line]
    assert [line.split()[3:5] for line in lines] == [
        ["started"], ["first", "ok"], ["double", "ok"], ["third", "ok"], ["finish", "ok"], ["succeeded"],
    ]


def test_results_pass_as_json(flows: Flows) -> None:
    """The next step sees what JSON makes of a result (a tuple is a list, keys are strings), the
    same on the first pass and on a replay."""
    done = flows.flow("as-json", {})
    assert done.returncode == 0, done.stderr
    assert result(done) == ["list", "str"]  # not tuple and int


def test_retry_runs_a_failing_step_again_with_backoff(flows: Flows) -> None:
    done = flows.flow("retrying", {"fails": 2})
    assert done.returncode == 0, done.stdout + done.stderr
    assert result(done) == {"n": None, "done": True}
    assert [s[2] for s in flows.starts() if s[0] == "flaky"] == [1, 2, 3]
    assert "attempt 1/3 Flaky: call 1 fails -> retry in 0.05 s" in done.stdout
    assert "attempt 2/3 Flaky: call 2 fails -> retry in 0.1 s" in done.stdout


def test_retries_exhausted_fail_the_flow_and_keep_its_log(flows: Flows) -> None:
    done = flows.flow("retrying", {"fails": 9})
    assert done.returncode == 1
    assert "failed: Flaky: call 3 fails" in done.stderr
    assert len(flows.records("flaky")) == 3 and flows.records("finish") == []
    (run,) = flows.runs()
    assert run["status"] == "failed"
    assert flows.log(run["id"])[-2:] == [("flaky", "failed"), (None, "failed")]


def test_catch_after_retries_runs_the_fallback_and_ends_the_sequence(flows: Flows) -> None:
    done = flows.flow("caught", {"n": 7})
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(flows.records("broken")) == 2  # the ValueError rule: 2 attempts (the Flaky rule does not apply)
    assert result(done) == {"fallback": {"type": "ValueError", "message": "broken on purpose"}, "input": {"n": 7}}
    assert flows.records("finish") == []  # resume=False: the rest of the sequence is skipped


def test_catch_with_resume_continues_and_unmatched_errors_are_not_caught(flows: Flows) -> None:
    done = flows.flow("resumed", {"kind": "x"})
    assert done.returncode == 0 and result(done) == "label:None"  # label got the fallback's result
    done = flows.flow("uncaught", {"n": 1})
    assert done.returncode == 1 and "ValueError: broken on purpose" in done.stderr
    assert flows.records("fallback")[-1]["payload"]["input"] == {"kind": "x"}  # only the first flow's fallback ran
    assert len(flows.records("fallback")) == 1


def test_a_caught_step_is_not_run_again_when_the_run_is_replayed(flows: Flows) -> None:
    """One branch fails for good while the other waits for a retry: the parallel step is caught
    (and the run goes on). The next pass, after the wait, replays the tree: it must go straight
    to the recorded fallback, not retry the abandoned branch."""
    done = flows.flow("caught-then-wait", {"fails": 99})
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(flows.records("flaky")) == 1 and len(flows.records("fallback")) == 1
    assert result(done) == {"n": None, "done": True}


def test_a_step_past_its_handlers_timeout_fails_with_step_timeout(flows: Flows) -> None:
    done = flows.flow("too-slow", {})
    assert done.returncode == 0, done.stderr
    assert result(done)["fallback"] == {"type": "StepTimeout", "message": "sluggish ran past its 0.1 s timeout"}


def test_choice_branches_on_the_previous_result(flows: Flows) -> None:
    assert result(flows.flow("branching", {"kind": "a", "size": 50})) == "label:a"
    assert result(flows.flow("branching", {"kind": "b", "size": 50})) == "label:b"
    assert result(flows.flow("branching", {"kind": "c", "size": "50"})) == "label:c"  # a string is not > 10
    ran = [s[1] for s in flows.starts() if s[0] == "label"]
    assert ran == ["0", "1", "else"]  # the first rule, the second rule, otherwise (step addresses)
    done = flows.flow("strict-choice", {"kind": "z"})
    assert done.returncode == 1 and "NoChoiceMatched" in done.stderr


def test_parallel_fans_out_and_collects_results_in_branch_order(flows: Flows) -> None:
    done = flows.flow("fan", {"n": 3})
    assert done.returncode == 0
    assert result(done) == [{"n": 4}, {"n": 6}, {"n": 8}]  # add, double, add then double
    assert sorted(s[1] for s in flows.starts()) == ["0", "1", "2/0", "2/1"]  # a one-step list is that step: branches at the root


def test_map_runs_over_a_list_within_its_concurrency_limit(flows: Flows) -> None:
    done = flows.flow("mapped", {"items": [1, 2, 3, 4, 5, 6]})
    assert done.returncode == 0, done.stderr
    out = result(done)
    assert out["squares"] == [1, 4, 9, 16, 25, 36]
    assert 1 <= out["peak"] <= 2
    done = flows.flow("mapped", {"items": "not a list"})
    assert done.returncode == 1 and "needs a list at 'items', found str" in done.stderr


def test_wait_uses_the_runtime_clock(flows: Flows) -> None:
    """An hour's wait at 36000x the speed: 0.1 s of real time, 3600 s of the runtime's clock."""
    done = flows.flow("waiting", {"n": 1}, COREFN_LOCAL_NOW=FAKE_NOW, COREFN_LOCAL_CLOCK_SPEED="36000")
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = flows.runs()
    steps = flows.steps(run["id"])
    assert "an-hour waiting  until 2030-01-01T0" in done.stdout  # in the fake clock's time
    assert steps["1"]["wake_at"] == steps["1"]["started"] + 3600
    assert steps["2"]["started"] >= steps["1"]["wake_at"]  # the next step started after the wait, by that clock
    assert steps["1"]["started"] >= run["started"]  # ordering only: at 36000x, 0.1 s of load is an hour


def test_wait_until_a_time_in_the_result(flows: Flows) -> None:
    done = flows.flow("waiting-until", {"at": "2030-01-01T00:10:00Z", "kind": "t"}, COREFN_LOCAL_NOW=FAKE_NOW, COREFN_LOCAL_CLOCK_SPEED="6000")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "until 2030-01-01T00:10:00.000Z" in done.stdout and result(done) == "label:t"
    done = flows.flow("waiting-until", {"kind": "t"})
    assert done.returncode == 1 and "needs an ISO 8601 time at 'at', found nothing" in done.stderr


def test_a_flow_past_its_timeout_fails_with_its_step_log_kept(flows: Flows) -> None:
    done = flows.flow("short", {"n": 1}, COREFN_LOCAL_NOW=FAKE_NOW, COREFN_LOCAL_CLOCK_SPEED="200")
    assert done.returncode == 1
    assert "timed_out: flow 'short' ran past its 30 s timeout" in done.stderr
    (run,) = flows.runs()
    assert run["status"] == "timed_out"
    assert flows.log(run["id"]) == [(None, "started"), ("slow", "ok"), ("wait", "waiting"), (None, "timed_out")]
    assert flows.records("finish") == []
