"""Local change feeds: object writes and table writes become deliveries.

Two sources of storage events, one rule against counting a write twice:

- the local sinks announce their own writes (:mod:`corefn.sinks.notify`): a handler's
  ``ctx.sinks["originals"].put(...)`` in this process;
- a watchdog observer on each watched bucket's folder sees everything else: a file dragged in by
  hand, another program, a script using the sink in another process.

Both end in :func:`announce`, which records the object's version
(size, mtime in ns) in ``objects_seen`` and enqueues the deliveries in the same transaction, and
does nothing if that version was already announced. So a sink write seen by both sources is
delivered once, a file replaced by a new version is a new ``created`` event (an S3 overwrite), and
a rerun with ``--until-idle`` does not redo files it already announced: at start the folders are
scanned and only unannounced versions (and vanished files, as ``deleted``) are enqueued.

Ignored: the sink's ``.corefn-meta/`` folder (its metadata sidecars and temp files) and anything
whose name or folder starts with ``.`` or ends like an editor / download temp file; files still
being written are announced once they have been quiet for ``SETTLE`` seconds.

Table writes come only from the sink's notifications (SQLite has no change feed another process
could follow), so the NoSQL trigger sees writes made by this runtime's handlers. Each change goes
to the ordered machinery with the table and item key as partition: changes to one item arrive in
commit order, as DynamoDB Streams deliver them per item.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corefn.events import NoSqlChange, StorageEvent
from corefn.local.deliveries import nosql_row, storage_row
from corefn.local.store import NewDelivery, Store, insert_rows

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.local.console import Console
    from corefn.specs import HandlerSpec

SETTLE = 0.25
TEMP_SUFFIXES = ("~", ".tmp", ".part", ".partial", ".crdownload", ".swp", ".swx")


def is_ignored(relative: str) -> bool:
    parts = relative.split("/")
    return any(p.startswith(".") for p in parts) or parts[-1].endswith(TEMP_SUFFIXES)


def bucket_folders(app: App, buckets: set[str], console: Console) -> dict[str, Path]:
    """The local folder of each bucket a storage handler listens to (``file://`` sinks only)."""
    from corefn.sinks import LOCAL_DEFAULTS, sink_url, state_dir
    from corefn.specs import SinkSpec

    declared = {s.name: s for s in app.sinks if s.family == "object"}
    folders: dict[str, Path] = {}
    for bucket in sorted(buckets):
        spec = declared.get(bucket) or SinkSpec("object", bucket)
        url = sink_url(spec) if bucket in declared else LOCAL_DEFAULTS["object"].format(state=state_dir().as_posix(), name=bucket)
        if not url.startswith("file://"):
            console.warn(f"bucket {bucket!r} is {url}: only its local folder can be watched; not watching it")
            continue
        from corefn.sinks.files import folder_of

        folders[bucket] = folder_of(url)
    return folders


class ChangeFeed:
    def __init__(self, app: App, store: Store, console: Console, wake: dict[str, threading.Event]) -> None:
        self.app = app
        self.store = store
        self.console = console
        self.wake = wake
        self.storage: dict[str, list[HandlerSpec]] = {}
        for spec in app.handlers_of("storage"):
            self.storage.setdefault(spec.trigger.bucket, []).append(spec)  # type: ignore[attr-defined]
        self.nosql: dict[str, list[HandlerSpec]] = {}
        for spec in app.handlers_of("nosql"):
            self.nosql.setdefault(spec.trigger.table, []).append(spec)  # type: ignore[attr-defined]
        self.folders = bucket_folders(app, set(self.storage), console)
        self._pending: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: Any = None
        self._unsubscribe: Any = None

    # --------------------------------------------------------------------------- sources

    def listen(self) -> None:
        from corefn.sinks import notify

        self._unsubscribe = notify.subscribe(self.on_change)

    def on_change(self, event: Any) -> None:
        """A local sink's own notification (called in the writing thread, after the write)."""
        if isinstance(event, StorageEvent) and event.bucket in self.storage:
            folder = self.folders.get(event.bucket)
            if folder is None:  # not a watched folder: nothing can announce it twice
                specs = [s for s in self.storage[event.bucket] if s.trigger.wants(event.operation, event.key)]  # type: ignore[attr-defined]
                self.store.insert([storage_row(event, s.name) for s in specs])
                self._wake(specs)
                return
            version = _version(folder / event.key) if event.operation != "deleted" else None
            if event.operation != "deleted" and version is None:
                return  # already replaced or deleted again: the watcher will tell
            self._announce(event, version)
        elif isinstance(event, NoSqlChange) and event.table in self.nosql:
            self.store.insert([nosql_row(event, spec.name) for spec in self.nosql[event.table]])
            self._wake(self.nosql[event.table])

    def scan(self) -> int:
        """Announce what changed in the watched folders while nobody watched; returns how many."""
        count = 0
        for bucket, folder in self.folders.items():
            folder.mkdir(parents=True, exist_ok=True)
            seen = seen_keys(self.store, bucket)
            for path in sorted(folder.rglob("*")):
                key = path.relative_to(folder).as_posix()
                if is_ignored(key) or not path.is_file():
                    continue
                version = _version(path)
                if version is not None and seen.pop(key, None) != version:
                    count += self._announce(_created(bucket, key, path, version), version)
                seen.pop(key, None)
            for key in seen:  # announced once, gone now
                count += self._announce(StorageEvent(bucket=bucket, key=key, operation="deleted", time=datetime.now(UTC)), None)
        return count

    def watch(self) -> None:
        if not self.folders:
            return
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        feed = self

        class OnEvent(FileSystemEventHandler):
            def __init__(self, bucket: str, folder: Path) -> None:
                self.bucket, self.folder = bucket, folder

            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    if raw:
                        feed.touch(self.bucket, self.folder, Path(os.fsdecode(raw)))

        observer = Observer()
        for bucket, folder in self.folders.items():
            folder.mkdir(parents=True, exist_ok=True)
            observer.schedule(OnEvent(bucket, folder), str(folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        threading.Thread(target=self._settle_loop, name="corefn-watcher", daemon=True).start()

    def touch(self, bucket: str, folder: Path, path: Path) -> None:
        try:
            key = path.relative_to(folder).as_posix()
        except ValueError:
            return
        if key and not is_ignored(key):
            with self._lock:
                self._pending[(bucket, key)] = time.monotonic()

    def _settle_loop(self) -> None:
        while not self._stop.wait(SETTLE / 2):
            now = time.monotonic()
            with self._lock:
                ready = [k for k, t in self._pending.items() if now - t >= SETTLE]
            for bucket, key in ready:
                path = self.folders[bucket] / key
                version = _version(path) if path.is_file() else None
                if version is not None and time.time_ns() - version[1] < SETTLE * 1e9:
                    continue  # still being written: look again later
                with self._lock:
                    self._pending.pop((bucket, key), None)
                try:
                    if version is None:
                        self._announce(StorageEvent(bucket=bucket, key=key, operation="deleted", time=datetime.now(UTC)), None)
                    else:
                        self._announce(_created(bucket, key, path, version), version)
                except Exception as error:  # keep watching whatever one file does
                    self.console.warn(f"cannot announce {bucket}/{key}: {error}")

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def close(self) -> None:
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._observer is not None:
            self._observer.stop()

    # ---------------------------------------------------------------------------- helpers

    def _announce(self, event: StorageEvent, version: tuple[int, int] | None) -> int:
        specs = [s for s in self.storage.get(event.bucket, []) if s.trigger.wants(event.operation, event.key)]  # type: ignore[attr-defined]
        fresh = announce(self.store, event.bucket, event.key, version, [storage_row(event, s.name) for s in specs])
        if fresh:
            self._wake(specs)
        return int(fresh)

    def _wake(self, specs: list[HandlerSpec]) -> None:
        for spec in specs:
            found = self.wake.get(spec.name)
            if found is not None:
                found.set()


def seen_keys(store: Store, bucket: str) -> dict[str, tuple[int, int]]:
    rows = store.connect().execute("SELECT key, size, mtime_ns FROM objects_seen WHERE bucket=?", (bucket,)).fetchall()
    return {key: (size, mtime) for key, size, mtime in rows}


def announce(store: Store, bucket: str, key: str, version: tuple[int, int] | None, rows: list[NewDelivery]) -> bool:
    """Record that object ``key`` at ``version`` (size, mtime_ns; ``None`` = deleted) was
    announced, and enqueue its deliveries, in one transaction. Returns False (and enqueues
    nothing) when that version was already announced: the watcher and the sink's own
    notification race for the same write, and only the first one counts."""
    with store.transaction() as db:
        row = db.execute("SELECT size, mtime_ns FROM objects_seen WHERE bucket=? AND key=?", (bucket, key)).fetchone()
        if (None if row is None else (row[0], row[1])) == version:
            return False
        if version is None:
            db.execute("DELETE FROM objects_seen WHERE bucket=? AND key=?", (bucket, key))
        else:
            db.execute("INSERT OR REPLACE INTO objects_seen (bucket, key, size, mtime_ns) VALUES (?,?,?,?)", (bucket, key, *version))
        insert_rows(db, rows)
    return True


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _created(bucket: str, key: str, path: Path, version: tuple[int, int]) -> StorageEvent:
    from corefn.sinks.files import guess_type

    return StorageEvent(
        bucket=bucket, key=key, operation="created", size=version[0],
        time=datetime.fromtimestamp(version[1] / 1e9, UTC), content_type=guess_type(key),
    )
