"""The IoT site's SQL (SQLAlchemy Core, portable text SQL): readings as the record of truth and
the 5-minute summaries the timer writes. Works on the local SQLite default and on PostgreSQL
(``COREFN_SINK_REPORTS=postgresql://...``). SQLAlchemy is imported on first use, not at import
time (cold start).

Times are stored as ISO 8601 UTC text (``2026-11-25T07:00:00+00:00``), which sorts and compares
correctly as text in every database.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS readings (
        id VARCHAR(64) PRIMARY KEY, device VARCHAR(63) NOT NULL, time VARCHAR(40) NOT NULL,
        temperature DOUBLE PRECISION, humidity DOUBLE PRECISION)""",
    "CREATE INDEX IF NOT EXISTS readings_time ON readings (time)",
    """CREATE TABLE IF NOT EXISTS summaries (
        window_start VARCHAR(40) NOT NULL, window_end VARCHAR(40) NOT NULL, window_seoul VARCHAR(20) NOT NULL,
        device VARCHAR(63) NOT NULL, readings INTEGER NOT NULL,
        temperature_avg DOUBLE PRECISION, temperature_min DOUBLE PRECISION, temperature_max DOUBLE PRECISION,
        humidity_avg DOUBLE PRECISION,
        PRIMARY KEY (window_start, device))""",
)

_ready: set[int] = set()
_lock = threading.Lock()


def _engine(sink: Any) -> Any:
    """The sink's engine, with the schema created once per process."""
    engine = sink.engine
    if id(engine) not in _ready:
        from sqlalchemy import text

        with _lock, engine.begin() as conn:
            for statement in SCHEMA:
                conn.execute(text(statement))
            _ready.add(id(engine))
    return engine


def insert_reading(sink: Any, reading: dict[str, Any]) -> bool:
    """Store one reading; False when its id is already stored (a queue redelivery)."""
    from sqlalchemy import text

    with _engine(sink).begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM readings WHERE id = :id"), {"id": reading["id"]}).first()
        if exists:
            return False
        conn.execute(
            text(
                "INSERT INTO readings (id, device, time, temperature, humidity) VALUES (:id, :device, :time, :temperature, :humidity)"
            ),
            {
                "temperature": None,
                "humidity": None,
                **{k: reading.get(k) for k in ("id", "device", "time", "temperature", "humidity")},
            },
        )
    return True


def summarize_window(sink: Any, start: datetime, end: datetime, seoul_label: str) -> int:
    """Replace the summaries of ``[start, end)`` (a retried tick writes the same rows again)."""
    from sqlalchemy import text

    window = {"start": start.isoformat(), "end": end.isoformat()}
    with _engine(sink).begin() as conn:
        conn.execute(text("DELETE FROM summaries WHERE window_start = :start"), {"start": window["start"]})
        result = conn.execute(
            text(
                """INSERT INTO summaries (window_start, window_end, window_seoul, device, readings,
                       temperature_avg, temperature_min, temperature_max, humidity_avg)
                   SELECT :start, :end, :seoul, device, COUNT(*), AVG(temperature), MIN(temperature), MAX(temperature), AVG(humidity)
                   FROM readings WHERE time >= :start AND time < :end GROUP BY device"""
            ),
            {**window, "seoul": seoul_label},
        )
        return int(result.rowcount or 0)


def summaries(sink: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with _engine(sink).connect() as conn:
        rows = conn.execute(text("SELECT * FROM summaries ORDER BY window_start, device")).mappings().all()
    return [dict(row) for row in rows]
