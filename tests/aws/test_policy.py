"""The portable retry policy compiled into AWS's fields (the SAM generator writes exactly these)."""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.policy import compile_policies


def _compiled(**options: Any) -> dict[str, Any]:
    app = App("shop")
    app.object_store("archive")
    app.object_store("failures")
    app.publisher("alarms", target="topic")

    @app.queue("jobs", name="job", **options.get("queue", {}))
    def job(message: Any) -> None: ...

    @app.stream("clicks", name="click", **options.get("stream", {}))
    def click(record: Any) -> None: ...

    @app.storage("archive", name="upload", **options.get("storage", {}))
    def upload(event: Any) -> None: ...

    @app.get("/x", name="page")
    def page(req: Any) -> None: ...

    return dict(compile_policies(app, "aws"))


def test_defaults_five_attempts_everywhere_the_cloud_allows() -> None:
    compiled = _compiled()
    assert compiled["job"].settings == {"VisibilityTimeout": 60, "maxReceiveCount": 5, "DeadLetter": {"Type": "SQS", "name": None}}
    assert compiled["click"].settings == {
        "MaximumRetryAttempts": 4, "BisectBatchOnFunctionError": True, "MaximumRecordAgeInSeconds": -1,
        "OnFailure": {"Type": "SQS", "name": None},
    }  # fmt: skip
    assert compiled["upload"].settings == {"MaximumRetryAttempts": 2, "DeadLetterQueue": {"Type": "SQS", "name": None}}
    assert compiled["page"].settings == {} and compiled["page"].policy.max_attempts == 1
    assert all(c.notes == () for c in compiled.values())


def test_until_expiry_age_bounds_timeouts_and_destinations() -> None:
    compiled = _compiled(
        queue={"max_attempts": 0, "timeout": 40, "backoff": 600},
        stream={"max_attempts": 0, "max_age": 30, "dead_letter": "alarms"},
        storage={"max_attempts": 9, "dead_letter": "failures"},
    )
    job, click, upload = compiled["job"], compiled["click"], compiled["upload"]
    assert job.settings["maxReceiveCount"] is None and job.settings["Timeout"] == 40
    assert job.settings["VisibilityTimeout"] == 600  # the backoff is longer than 6 x 40 s
    assert click.settings["MaximumRetryAttempts"] == -1 and click.settings["MaximumRecordAgeInSeconds"] == 60
    assert click.settings["OnFailure"] == {"Type": "SNS", "name": "alarms"}
    assert upload.settings["MaximumRetryAttempts"] == 2 and upload.settings["DeadLetterQueue"] == {"Type": "SQS", "name": None}
    notes = " ".join(job.notes + click.notes + upload.notes)
    assert "retention" in notes and "60-604800" in notes and "at most 2 times" in notes and "bucket 'failures'" in notes
