"""Dead letters of the local runtime: list them, show one, and put them back (redrive).

A delivery that failed ``max_attempts`` times is moved from ``deliveries`` to ``dead`` with its
last error (:meth:`corefn.local.store.Store.settle`). Its **id** here is the delivery's ``seq``,
unique per consuming handler (a topic message that failed for two subscribers is two dead
letters), not the message id the rows of one fanned-out message share.

Redrive moves rows back in one transaction, with ``attempt`` reset to 0 and visible at once, to
their own handler or to another handler of the same trigger kind (``to``): what SQS's
``StartMessageMoveTask`` does for a DLQ, and what Azure / Pub/Sub users script by hand. The rows
get new delivery ids (a redriven message is a new delivery of the same message id, so an
idempotent handler that already completed it answers from its record).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corefn.dispatch import COMPATIBLE_KINDS
from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.local.store import Store



@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int  # the delivery id (``seq``)
    message_id: str
    kind: str
    resource: str
    handler: str
    attempts: int
    error: str
    created: float
    died_at: float
    body: bytes
    attributes: dict[str, str]
    meta: dict[str, Any]
    partition: str | None
    key: str | None

    def age(self, now: float | None = None) -> float:
        """Seconds since the message was first published / the event happened."""
        return (now or time.time()) - self.created

    def summary(self) -> dict[str, Any]:
        """The JSON form of ``corefn dead list`` and the console: no body."""
        return {
            "id": self.id, "message_id": self.message_id, "kind": self.kind, "resource": self.resource,
            "handler": self.handler, "attempts": self.attempts, "error": self.error,
            "created": self.created, "died_at": self.died_at, "age_s": round(self.age(), 3),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, the body as text when it is UTF-8 (else base64)."""
        out = self.summary()
        try:
            out["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            out["body"] = base64.b64encode(self.body).decode("ascii")
            out["body_encoding"] = "base64"
        out.update(attributes=self.attributes, meta=self.meta, partition=self.partition, key=self.key)
        return out


_COLUMNS = "seq, id, kind, resource, handler, attempt, last_error, created, died_at, body, attributes, meta, partition, key"


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    seq, mid, kind, resource, handler, attempt, error, created, died, body, attrs, meta, partition, key = row
    return DeadLetter(
        int(seq), str(mid), str(kind), str(resource), str(handler), int(attempt or 0), str(error or ""),
        float(created or 0), float(died or 0), bytes(body or b""), json.loads(attrs) if attrs else {},
        json.loads(meta) if meta else {}, partition, key,
    )


def dead_letters(store: Store, handler: str | None = None, limit: int | None = None) -> list[DeadLetter]:
    """Oldest first."""
    sql = f"SELECT {_COLUMNS} FROM dead" + (" WHERE handler=?" if handler else "") + " ORDER BY died_at, seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = store.connect().execute(sql, (handler,) if handler else ()).fetchall()
    return [_letter(row) for row in rows]


def dead_letter(store: Store, seq: int) -> DeadLetter:
    row = store.connect().execute(f"SELECT {_COLUMNS} FROM dead WHERE seq=?", (seq,)).fetchone()
    if row is None:
        raise ConfigurationError(f"no dead letter with id {seq} (see: corefn dead APP list)")
    return _letter(row)


def redrive(store: Store, seqs: list[int] | None, to: str | None = None, kinds: dict[str, str] | None = None) -> list[int]:
    """Move dead letters ``seqs`` (``None``: all of them) back to ``deliveries``, to their own
    handler or to handler ``to``; returns the ids moved. ``kinds`` (handler → trigger kind, from
    the app) lets the move refuse a target of another kind and a handler the app no longer has."""
    now = time.time()
    with store.transaction() as db:
        if seqs is None:
            rows = db.execute(f"SELECT {_COLUMNS} FROM dead ORDER BY seq").fetchall()
        else:
            rows = []
            for seq in seqs:
                row = db.execute(f"SELECT {_COLUMNS} FROM dead WHERE seq=?", (seq,)).fetchone()
                if row is None:
                    raise ConfigurationError(f"no dead letter with id {seq} (see: corefn dead APP list)")
                rows.append(row)
        letters = [_letter(row) for row in rows]
        for letter in letters:
            target = to or letter.handler
            if kinds is not None:
                kind = kinds.get(target)
                if kind is None:
                    raise ConfigurationError(f"dead letter {letter.id}: the app has no handler {target!r} to redrive it to")
                if kind != letter.kind and (letter.kind, kind) not in COMPATIBLE_KINDS:
                    raise ConfigurationError(
                        f"dead letter {letter.id} is a {letter.kind} delivery; handler {target!r} takes {kind} events"
                    )
        for letter, row in zip(letters, rows, strict=True):
            db.execute(
                "INSERT INTO deliveries (id, kind, resource, handler, partition, key, body, attributes, meta, attempt,"
                " visible_at, created) VALUES (?,?,?,?,?,?,?,?,?,0,?,?)",
                (letter.message_id, letter.kind, letter.resource, to or letter.handler, letter.partition, letter.key,
                 row[9], row[10], row[11], now, letter.created),
            )
            db.execute("DELETE FROM dead WHERE seq=?", (letter.id,))
    return [letter.id for letter in letters]
