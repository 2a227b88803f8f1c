"""Cloudant (CouchDB) changes, from the ``/whisk.system/cloudant/changes`` feed.

The provider fires one trigger per row of the database's ``_changes`` feed, adding the database
name (apache/openwhisk-package-cloudant ``provider/lib/utils.js``: ``form = change;
form.dbname = triggerData.dbname``)::

    {"dbname": "orders", "id": "6ca4...", "seq": "2-g1AA...",
     "changes": [{"rev": "2-da3f..."}], "deleted": true}

``deleted`` appears only on deletions; ``doc`` only where the trigger was created with the
former ``includeDoc`` option (``include_docs``). Older payloads (and the README's sample) have
no ``dbname``: ``table`` is then ``null``.

Operation: ``deleted`` → remove. Otherwise a revision of generation 1 (``1-...``) is the
document's first: insert. A later generation is an update *or* a re-creation after a deletion
(CouchDB continues the revision count of the tombstone), which the feed cannot tell apart:
upsert. ``keys`` is ``{"_id": id}``; ``new`` is the document when the feed includes it (never for
a deletion); ``old`` is always ``null`` (CouchDB keeps no previous body in the feed).

Signature: ``id``, ``seq`` and a ``changes`` list together.
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.events import Event, NoSqlChange, NoSqlOperation
from corefn_openwhisk._common import TriggerShape


def revision_generation(rev: str) -> int:
    """The generation of a CouchDB revision id ``N-hash``; ValueError when malformed."""
    head, sep, tail = rev.partition("-")
    if not sep or not tail or not head.isdigit():
        raise ValueError(f"{rev!r} is not a CouchDB revision (N-hash)")
    return int(head)


class CloudantChange(TriggerShape):
    """``id`` + ``seq`` + ``changes`` list: one Cloudant ``_changes`` row."""

    name: ClassVar[str] = "cloudant"
    kind: ClassVar[str] = "nosql"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and "id" in raw and "seq" in raw and isinstance(raw.get("changes"), list)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        doc_id = r.str(raw, "id")
        seq = r.get(raw, "seq", (str, int))
        changes = r.list(raw, "changes")
        if not changes:
            raise r.error("changes", "is an empty list")
        if not isinstance(changes[0], dict):
            raise r.error("changes[0]", f"should be an object, got {type(changes[0]).__name__}")
        rev = r.str(changes[0], "rev", at="changes[0]")
        generation = r.convert(rev, revision_generation, "changes[0].rev", "a CouchDB revision")
        deleted = r.get(raw, "deleted", bool, default=False)
        doc = r.get(raw, "doc", dict, default=None)
        operation: NoSqlOperation = "remove" if deleted else "insert" if generation == 1 else "upsert"
        return [
            NoSqlChange(
                table=r.opt_str(raw, "dbname"),
                operation=operation,
                keys={"_id": doc_id},
                new=None if deleted else doc,
                old=None,
                sequence=str(seq),
                id=f"{doc_id}@{rev}",
                raw=raw,
            )
        ]
