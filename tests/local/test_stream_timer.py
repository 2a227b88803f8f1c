"""Streams (order per partition, a failing record blocks its partition) and timers (time zones,
missed ticks) on the local runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.local.conftest import Local


def test_stream_keeps_order_per_partition_while_a_record_fails_twice(local: Local) -> None:
    telemetry = local.publisher("telemetry", target="stream")
    for i in range(6):
        telemetry.send(f"a{i}" + ("-flaky" if i == 2 else ""), group="device-a")
        telemetry.send(f"b{i}", group="device-b")
    status, out = local.until_idle()
    assert status == 0, out
    done = local.records("on_reading")
    for key, prefix in (("device-a", "a"), ("device-b", "b")):
        bodies = [r["body"] for r in done if r["key"] == key]
        assert bodies == [f"{prefix}{i}" + ("-flaky" if key == "device-a" and i == 2 else "") for i in range(6)]
        sequences = [int(r["sequence"]) for r in done if r["key"] == key]
        assert sequences == sorted(sequences)
    tries = [r["body"] for r in local.records("on_reading_try") if r["key"] == "device-a"]
    # a3 is never tried before a2-flaky succeeded on its third attempt
    assert tries[:5] == ["a0", "a1", "a2-flaky", "a2-flaky", "a2-flaky"]
    assert out.count("RETRY") == 2


def test_stream_checkpoint_survives_a_restart(local: Local) -> None:
    telemetry = local.publisher("telemetry", target="stream")
    telemetry.send("first", group="k")
    assert local.until_idle()[0] == 0
    telemetry.send("second", group="k")
    assert local.until_idle()[0] == 0
    assert [r["body"] for r in local.records("on_reading")] == ["first", "second"]  # first not replayed


def test_timer_fires_on_seoul_boundaries_and_a_missed_tick_once_past_due(local: Local) -> None:
    seoul = ZoneInfo("Asia/Seoul")
    # "*/30 9-10 * * *" in Seoul = 00:00, 00:30, 01:00, 01:30 UTC. The clock starts 15 min before
    # and runs 1800x faster: one tick every real second.
    proc = local.start("--now", "2026-03-01T23:45:00Z", "--clock-speed", "1800", "--port", "0")
    local.wait_for(lambda: len(local.records("seoul_morning")) >= 3, timeout=15)
    proc.terminate()
    proc.wait()
    ticks = local.records("seoul_morning")
    times = [datetime.fromisoformat(t["time"]) for t in ticks]
    assert [t.astimezone(UTC).strftime("%H:%M") for t in times[:3]] == ["00:00", "00:30", "01:00"]
    assert all(t.astimezone(seoul).hour in (9, 10) and t.minute in (0, 30) for t in times)
    assert not any(t["past_due"] for t in ticks)
    # down for a day: the four missed ticks of the next morning arrive once, past due
    status, out = local.until_idle("--now", "2026-03-03T03:00:00Z")
    assert status == 0, out
    late = local.records("seoul_morning")[len(ticks) :]
    assert [(t["time"], t["past_due"]) for t in late] == [("2026-03-03T01:30:00+00:00", True)]
    # and a rerun at the same time never delivers it twice
    assert local.until_idle("--now", "2026-03-03T03:05:00Z")[0] == 0
    assert len(local.records("seoul_morning")) == len(ticks) + 1


def test_first_run_of_a_timer_delivers_nothing_past_due(local: Local) -> None:
    status, _ = local.until_idle("--now", "2026-03-03T03:00:00Z")
    assert status == 0
    assert local.records("seoul_morning") == []
