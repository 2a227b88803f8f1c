"""The soak benchmark, short: a few hundred messages, two kill -9, with and without idempotency.
Nothing may be lost either way; with ``idempotent=True`` the handler completes a message more
than once only for what was in flight at a kill (concurrency × kills)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.soak import report, run

MESSAGES, KILLS, CONCURRENCY = 400, 2, 4


def test_soak_loses_nothing_and_idempotency_bounds_duplicates(tmp_path: Path) -> None:
    plain = run(MESSAGES, KILLS, fail=0.2, poison=0.02, concurrency=CONCURRENCY, idempotent=False, seed=7, folder=tmp_path / "plain", quiet=True)
    once = run(MESSAGES, KILLS, fail=0.2, poison=0.02, concurrency=CONCURRENCY, idempotent=True, seed=7, folder=tmp_path / "once", quiet=True)
    table = report([plain, once])
    for result in (plain, once):
        assert result.sent == MESSAGES, table
        assert result.lost == 0 and result.queued == 0, table
        assert result.processed + result.dead >= MESSAGES, table
        assert result.kills == KILLS, table
        assert result.dead >= 1, table  # the poison messages (2% of 400) are dead-lettered
    assert once.duplicate_runs <= CONCURRENCY * KILLS, table
