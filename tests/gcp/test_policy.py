"""The portable retry policy compiled for Pub/Sub and Eventarc (:mod:`corefn_gcp.policy`), and
what the generated script does with it."""

from __future__ import annotations

from typing import Any

import pytest

from corefn import App
from corefn.errors import ConfigurationError
from corefn.policy import compile_policies
from corefn_gcp.generator import generate


def _app(**options: Any) -> App:
    app = App("pol")

    @app.queue("jobs", **options)
    def work(message: object) -> None: ...

    return app


def test_default_is_five_deliveries_then_the_queues_dead_letter_topic() -> None:
    settings = compile_policies(_app(), "gcp")["work"].settings
    assert settings["max_delivery_attempts"] == 5 and settings["dead_letter_topic"] == "jobs-dead-letter"
    assert settings["ack_deadline"] == 60  # the function's default timeout, not Pub/Sub's 10 s


@pytest.mark.parametrize(("asked", "given"), [(2, 5), (200, 100), (7, 7)])
def test_attempts_are_moved_into_pubsubs_range_with_a_note(asked: int, given: int) -> None:
    compiled = compile_policies(_app(max_attempts=asked), "gcp")["work"]
    assert compiled.settings["max_delivery_attempts"] == given
    assert bool(compiled.notes) == (asked != given)


def test_until_expiry_has_no_dead_letter_policy() -> None:
    compiled = compile_policies(_app(max_attempts=0), "gcp")["work"]
    assert "dead_letter_topic" not in compiled.settings and "7 days" in compiled.notes[0]
    script = str(generate(_app(max_attempts=0), "pol.py:app")["deploy.sh"])
    assert "--dead-letter-topic" not in script and "-pull" not in script


def test_backoff_and_timeout_reach_the_subscription() -> None:
    script = str(generate(_app(backoff=30, timeout=120), "pol.py:app")["deploy.sh"])
    assert "--min-retry-delay=30s" in script and "--ack-deadline=120" in script


def test_a_bucket_cannot_be_a_pubsub_dead_letter() -> None:
    app = App("pol")
    app.object_store("graveyard")

    @app.queue("jobs", dead_letter="graveyard")
    def work(message: object) -> None: ...

    with pytest.raises(ConfigurationError, match="dead-letters to a topic"):
        generate(app, "pol.py:app")


def test_a_storage_handler_is_dead_lettered_not_dropped_and_firestore_says_it_is() -> None:
    app = App("pol")
    app.table("devices")

    @app.storage("photos", on=("created", "deleted"), prefix="in/", suffix=".jpg", max_attempts=9)
    def photo(event: object) -> None: ...

    @app.nosql("devices")
    def changed(event: object) -> None: ...

    compiled = compile_policies(app, "gcp")
    assert compiled["photo"].settings["max_delivery_attempts"] == 9
    assert compiled["photo"].settings["dead_letter_topic"] == "pol-photos-events-dead-letter"
    assert not compiled["photo"].notes
    assert compiled["changed"].settings == {"retry": "24h"} and "drops it" in compiled["changed"].notes[0]
    files = generate(app, "pol.py:app")
    script = str(files["deploy.sh"])
    assert "--object-prefix=in/" in script and ".jpg" not in script.split("notifications create", 1)[1].split("\n", 1)[0]
    assert "gcloud pubsub subscriptions create pol-photo-push --topic=pol-photos-events" in script
    assert "pol-photos-events-dead-letter-pull" in script
    readme = str(files["README.md"])
    assert "| `photo` | storage | ack_deadline=60" in readme and "max_delivery_attempts=9" in readme
    assert "Firestore handlers are Eventarc triggers (retried 24 h, then dropped" in readme
