"""A small Durable Task host for tests: it drives a generated orchestrator the way the Durable
Functions extension does — replaying the history from the start on every episode, with the
library's own ``DurableOrchestrationContext`` built from that JSON history — and runs the
activities it schedules by calling the generated activity functions.

What it models of the host (azure-functions-durable 1.x, replay schema V1): an episode starts
with ``OrchestratorStarted``; the first holds ``ExecutionStarted`` with the input and its
``Version`` (the library reads the version from it); each action the orchestrator returns gets
the next task id; an activity's outcome is ``TaskScheduled`` then ``TaskCompleted`` (result as
JSON) or ``TaskFailed`` (``Reason`` / ``Details``: the exception text, as the Python worker
reports it); a retried activity is the library's sequence of task, timer, task…; a timer fires
at once (the clock jumps to it); a sub-orchestration runs to its end in a nested host.
Events of earlier episodes are marked ``IsPlayed``. No Azure service is involved: there is no
Durable emulator that runs Python orchestrators, so this stands in for the extension only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# HistoryEventType (azure/durable_functions/models/history/HistoryEventType.py)
EXECUTION_STARTED, TASK_SCHEDULED, TASK_COMPLETED, TASK_FAILED = 0, 4, 5, 6
SUB_CREATED, SUB_COMPLETED, SUB_FAILED = 7, 8, 9
TIMER_CREATED, TIMER_FIRED, ORCHESTRATOR_STARTED = 10, 11, 12
# ActionType (azure/durable_functions/models/actions/ActionType.py)
#: how the library hands a failed orchestration's state to the worker (orchestrator.py)
OUT_OF_PROC = "$OutOfProcData$:"
CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CALL_SUB_ORCHESTRATOR, CREATE_TIMER = 0, 1, 2, 5


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@dataclass
class Host:
    orchestrators: dict[str, Callable[[str], str]]
    activities: dict[str, Callable[[Any], Any]]
    now: datetime
    timers: list[float] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def run(self, name: str, data: Any, instance: str = "instance-1") -> tuple[bool, Any]:
        """``(True, output)`` or ``(False, error text)``."""
        history: list[dict[str, Any]] = []
        self._event(history, ORCHESTRATOR_STARTED)
        self._event(history, EXECUTION_STARTED, Name=name, Input=json.dumps(data), Version="", OrchestrationInstance={"InstanceId": instance})
        handled, next_id = 0, 0
        for _ in range(500):
            for event in history[:-2]:
                event["IsPlayed"] = True
            context = {"history": history, "instanceId": instance, "isReplaying": False, "parentInstanceId": None, "input": json.dumps(data)}
            try:
                state = json.loads(self.orchestrators[name](json.dumps(context)))
            except Exception as failed:  # noqa: BLE001 - the library raises the failed state, as the worker reads it
                text = str(failed)
                assert OUT_OF_PROC in text, text
                state = json.loads(text.split(OUT_OF_PROC, 1)[1])
            if state.get("error") is not None:
                return False, state["error"]
            if state["isDone"]:
                return True, state.get("output")
            actions = [action for group in state["actions"] for action in group]
            new, handled = actions[handled:], len(actions)
            assert new, f"orchestrator {name} waits for nothing: {state}"
            self._event(history, ORCHESTRATOR_STARTED)
            for action in new:
                next_id = self._act(history, action, next_id, instance)
        raise AssertionError("the orchestration did not finish in 500 episodes")

    def _event(self, history: list[dict[str, Any]], kind: int, **fields: Any) -> None:
        history.append({"EventType": kind, "EventId": fields.pop("EventId", -1), "IsPlayed": False, "Timestamp": _iso(self.now), **fields})

    def _act(self, history: list[dict[str, Any]], action: dict[str, Any], task: int, instance: str) -> int:
        kind = action["actionType"]
        if kind == CALL_ACTIVITY:
            self._activity(history, action, task)
            return task + 1
        if kind == CALL_ACTIVITY_WITH_RETRY:
            options = action["retryOptions"]
            delay = options["firstRetryIntervalInMilliseconds"] / 1000
            for _ in range(options["maxNumberOfAttempts"]):
                ok = self._activity(history, action, task)
                task += 1
                if ok:
                    return task
                self._timer(history, task, self.now + timedelta(seconds=delay))  # the library's timer after each failure
                task += 1
                delay *= options.get("backoffCoefficient", 1)
            return task
        if kind == CALL_SUB_ORCHESTRATOR:
            self._event(history, SUB_CREATED, EventId=task, Name=action["functionName"], InstanceId=f"{instance}:{task}")
            ok, out = Host(self.orchestrators, self.activities, self.now, self.timers, self.calls).run(action["functionName"], json.loads(action["input"]), f"{instance}:{task}")
            if ok:
                self._event(history, SUB_COMPLETED, TaskScheduledId=task, Result=json.dumps(out))
            else:
                self._event(history, SUB_FAILED, TaskScheduledId=task, Reason=f"Orchestrator function '{action['functionName']}' failed: {out}", Details=None)
            return task + 1
        if kind == CREATE_TIMER:
            self._timer(history, task, datetime.fromisoformat(action["fireAt"].replace("Z", "+00:00")))
            return task + 1
        raise AssertionError(f"the test host does not model action {action}")

    def _activity(self, history: list[dict[str, Any]], action: dict[str, Any], task: int) -> bool:
        name = action["functionName"]
        self._event(history, TASK_SCHEDULED, EventId=task, Name=name)
        self.calls.append((name, json.loads(action["input"])))
        try:
            result = self.activities[name](json.loads(action["input"]))
        except Exception as error:  # noqa: BLE001 - the worker reports any exception as a failed task
            self._event(history, TASK_FAILED, TaskScheduledId=task, Reason=f"Activity function '{name}' failed: {type(error).__name__}: {error}", Details="")
            return False
        self._event(history, TASK_COMPLETED, TaskScheduledId=task, Result=json.dumps(result))
        return True

    def _timer(self, history: list[dict[str, Any]], task: int, fire_at: datetime) -> None:
        self._event(history, TIMER_CREATED, EventId=task, FireAt=_iso(fire_at))
        self.timers.append((fire_at - self.now).total_seconds())
        self.now = max(self.now, fire_at)
        self._event(history, TIMER_FIRED, TimerId=task, FireAt=_iso(fire_at))
