"""Queue handlers on the Kafka feed: corefn counts attempts itself (the feed commits before the
action runs and never redelivers). A failed message is republished to its topic with its attempt
raised, then written to the dead-letter topic; a message that can be passed on to neither fails
the activation by name.

The producer is replaced by a recorder here: there is no Kafka broker among the emulators. The
record format it is given (the in-band retry marker, the headers) is what the real producer
sends, and the marker is read back through the real feed payload, the action's ``main``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from corefn_openwhisk import queue
from corefn_openwhisk.runtime import make_main
from tests.openwhisk.conftest import APP_REF

run = make_main(APP_REF, "take_order")
Sent = list[tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    records: Sent = []
    monkeypatch.setattr(queue, "PRODUCER", [lambda: lambda topic, value, key, headers: records.append((topic, value, key, headers))])
    yield records


def _batch(*values: bytes, key: str | None = "group-1") -> dict[str, Any]:
    messages = [
        {"topic": "orders-in", "partition": 0, "offset": 40 + i, "key": base64.b64encode(key.encode()).decode() if key else None,
         "value": base64.b64encode(value).decode()}  # fmt: skip
        for i, value in enumerate(values)
    ]
    return {"messages": messages, "isBinaryKey": True, "isBinaryValue": True}


def test_marker_round_trip_and_plain_values() -> None:
    wrapped = queue.wrap(b"\x00payload\n", 3, "orders-in/0/40")
    assert queue.unwrap(wrapped) == (b"\x00payload\n", 3, "orders-in/0/40")
    assert queue.unwrap(b"plain") == (b"plain", 1, None)
    assert queue.unwrap(queue.MAGIC + b"{not json}\nrest") == (queue.MAGIC + b"{not json}\nrest", 1, None)


def test_a_failed_message_is_republished_with_its_attempt_then_dead_lettered(ow_env: dict[str, str], seen: list[Any], sent: Sent) -> None:
    answer = run(_batch(b"ok-1", b"bad-2"))
    assert answer["ok"] is True and answer["handled"] == 1
    assert answer["passed_on"] == [{"id": "orders-in/0/41", "retried": 2}]
    ((topic, value, key, headers),) = sent
    assert (topic, key, headers) == ("orders-in", b"group-1", [("corefn-attempt", b"2")])
    assert queue.unwrap(value) == (b"bad-2", 2, "orders-in/0/41")
    assert [m.attempt for m in seen] == [1, 1]
    # the feed delivers the republished record: attempt 2, then 3 = max_attempts → dead letter
    sent.clear()
    run({"messages": [{"topic": "orders-in", "partition": 0, "offset": 90, "key": base64.b64encode(b"group-1").decode(),
                       "value": base64.b64encode(value).decode()}], "isBinaryKey": True, "isBinaryValue": True})  # fmt: skip
    assert seen[-1].attempt == 2 and seen[-1].body.text == "bad-2" and seen[-1].id == "orders-in/0/41"
    third = sent[0][1]
    sent.clear()
    answer = run({"messages": [{"topic": "orders-in", "partition": 0, "offset": 91, "key": None,
                                "value": base64.b64encode(third).decode()}], "isBinaryKey": True, "isBinaryValue": True})  # fmt: skip
    assert answer["passed_on"] == [{"id": "orders-in/0/41", "dead_letter": "orders-poison", "attempts": 3}]
    ((topic, value, key, headers),) = sent
    assert topic == "orders-poison" and value == b"bad-2"
    found = dict(headers)
    assert found["corefn-attempt"] == b"3" and found["corefn-source"] == b"orders-in/0/41"
    assert found["corefn-error"].startswith(b"ValueError: cannot take order")


def test_without_a_broker_the_activation_fails_naming_every_lost_message(ow_env: dict[str, str], seen: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BROKERS", raising=False)
    batch = _batch(b"bad-1", b"fine")
    batch["messages"][1]["key"] = base64.b64encode(b"group-2").decode()
    answer = run(batch)
    lost = answer["error"]["lost"]
    assert [m["id"] for m in lost] == ["orders-in/0/40"] and "KAFKA_BROKERS is not set" in lost[0]["message"]
    assert answer["error"]["handled"] == 1  # another group's message


def test_a_message_its_group_kept_from_running_keeps_its_attempt(ow_env: dict[str, str], seen: list[Any], sent: Sent) -> None:
    answer = run(_batch(b"bad-1", b"next"))
    assert answer["passed_on"] == [{"id": "orders-in/0/40", "retried": 2}, {"id": "orders-in/0/41", "requeued": 1}]
    assert [queue.unwrap(value)[:2] for _, value, _, _ in sent] == [(b"bad-1", 2), (b"next", 1)]


def test_a_failed_stream_record_is_retried_in_place_then_dead_lettered_and_its_partition_goes_on(
    ow_env: dict[str, str], seen: list[Any], sent: Sent
) -> None:
    """The feed never redelivers: the failing record gets its 5 attempts inside the activation,
    in partition order, then goes to ``<stream>-dlq``; the record behind it runs after."""
    batch = {"messages": [
        {"topic": "mytopic", "partition": 0, "offset": 1, "key": None, "value": "ok"},
        {"topic": "mytopic", "partition": 0, "offset": 2, "key": "k", "value": "bad"},
        {"topic": "mytopic", "partition": 0, "offset": 3, "key": None, "value": "ok"},
        {"topic": "mytopic", "partition": 1, "offset": 9, "key": None, "value": "ok"},
    ]}  # fmt: skip
    answer = make_main(APP_REF, "on_record")(batch)
    assert answer == {"ok": True, "events": 4, "handled": 3, "skipped": 0, "dead_lettered": [{"id": "mytopic/0/2", "dead_letter": "mytopic-dlq", "attempts": 5}]}
    assert [r.sequence for r in seen] == ["1", "2", "9", "2", "2", "2", "2", "3"]
    ((topic, value, key, headers),) = sent
    assert (topic, value, key) == ("mytopic-dlq", b"bad", b"k")
    assert dict(headers)["corefn-attempt"] == b"5" and dict(headers)["corefn-error"] == b"ValueError: bad record"


def test_a_stream_record_that_cannot_be_dead_lettered_fails_the_activation(ow_env: dict[str, str], seen: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BROKERS", raising=False)
    batch = {"messages": [{"topic": "mytopic", "partition": 0, "offset": 2, "key": None, "value": "bad"}]}
    answer = make_main(APP_REF, "on_record")(batch)
    assert [m["id"] for m in answer["error"]["lost"]] == ["mytopic/0/2"] and "KAFKA_BROKERS" in answer["error"]["lost"][0]["message"]


def test_a_failed_cloudant_change_is_dead_lettered_as_its_json(ow_env: dict[str, str], seen: list[Any], sent: Sent) -> None:
    change = {"id": "poison", "seq": "7-g1AAAA", "changes": [{"rev": "1-abc"}], "dbname": "orders"}
    answer = make_main(APP_REF, "on_change")(change)
    assert answer["dead_lettered"] == [{"id": answer["dead_lettered"][0]["id"], "dead_letter": "orders-dlq", "attempts": 5}]
    assert len(seen) == 5
    ((topic, value, _, headers),) = sent
    assert topic == "orders-dlq" and json.loads(value)["keys"] == {"_id": "poison"}
    assert dict(headers)["corefn-error"] == b"ValueError: poison change"
